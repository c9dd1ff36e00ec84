"""Run folders: config.json names the step's data files and is the single commit point; a save
deletes only the data files it no longer names; folders from before ("format 1", the shipped
default model) still load. Killing a real training process at each rename is in
tests/e2e/test_survival.py."""

from __future__ import annotations

import json

import pytest
import torch

import core.learning.checkpoint as checkpoint
from core.learning.checkpoint import (
    DEFAULT_MODEL_DIR,
    CheckpointError,
    load_model,
    load_optimizer_state,
    load_weights,
    optimizer_path,
    save_checkpoint,
    weights_path,
)
from core.learning.model import ModelConfig, Transformer
from core.learning.tokenizer import PartitaTokenizer, TokenizerSettings


@pytest.fixture(scope="module")
def tokenizer() -> PartitaTokenizer:
    return PartitaTokenizer.create(TokenizerSettings())


def stepped_model(tokenizer: PartitaTokenizer, steps: int) -> tuple[Transformer, torch.optim.Optimizer]:
    """A one-layer model after `steps` AdamW steps on a fixed batch: weights and moments differ per step."""
    torch.manual_seed(0)
    model = Transformer(ModelConfig(vocab_size=len(tokenizer), block_size=16, n_layer=1, n_head=2, n_embd=16,
                                    dropout=0.0))
    optimizer = model.adamw(1e-2, 0.1, fused=False)
    x = torch.randint(0, len(tokenizer), (2, 16), generator=torch.Generator().manual_seed(1))
    for _ in range(steps):
        _, loss = model(x, x)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model, optimizer


def save(run_dir, tokenizer, steps: int, with_optimizer: bool = True) -> Transformer:
    model, optimizer = stepped_model(tokenizer, steps)
    save_checkpoint(run_dir, model, tokenizer, {"training": {"step": steps}}, optimizer if with_optimizer else None)
    return model


def names(run_dir) -> list[str]:
    return sorted(p.name for p in run_dir.iterdir())


def same_weights(a: Transformer, b: Transformer) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True))


def test_config_names_the_step_files_and_a_save_deletes_the_older_ones(tmp_path, tokenizer):
    save(tmp_path, tokenizer, 2)
    (tmp_path / "metrics.jsonl").write_text("{}\n")
    (tmp_path / "notes.txt").write_text("the user's own file")
    step4 = save(tmp_path, tokenizer, 4)
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["files"] == {"weights": "model-000004.safetensors", "optimizer": "optimizer-000004.safetensors",
                               "optimizer_state": "optimizer-000004.json"}
    assert names(tmp_path) == ["config.json", "metrics.jsonl", "model-000004.safetensors", "notes.txt",
                               "optimizer-000004.json", "optimizer-000004.safetensors", "tokenizer.json"]
    assert same_weights(load_model(tmp_path).model, step4)
    assert weights_path(tmp_path) == tmp_path / "model-000004.safetensors"
    assert optimizer_path(tmp_path) == tmp_path / "optimizer-000004.safetensors"


def test_a_save_deletes_the_leftovers_of_a_killed_save(tmp_path, tokenizer):
    save(tmp_path, tokenizer, 2)
    # a save of step 4 killed before config.json: whole files nothing names, and a half-written temporary
    (tmp_path / "model-000004.safetensors").write_bytes(b"whole but never committed")
    (tmp_path / ".optimizer-000004.safetensors.k2j3.tmp").write_bytes(b"half")
    (tmp_path / ".config.json.a1b2.tmp").write_text("{")  # not a data file: left alone
    assert same_weights(load_model(tmp_path).model, stepped_model(tokenizer, 2)[0])  # step 2 is what loads
    save(tmp_path, tokenizer, 6)
    assert names(tmp_path) == [".config.json.a1b2.tmp", "config.json", "model-000006.safetensors",
                               "optimizer-000006.json", "optimizer-000006.safetensors", "tokenizer.json"]


def test_a_second_save_at_one_step_never_overwrites_the_named_files(tmp_path, tokenizer, monkeypatch):
    save(tmp_path, tokenizer, 2)
    first = (tmp_path / "model-000002.safetensors").read_bytes()
    seen, real = [], checkpoint.atomic_write_bytes

    def watch(target, data):  # what config.json names must not change before config.json itself does
        seen.append((target.name, (tmp_path / "model-000002.safetensors").read_bytes() == first))
        real(target, data)

    monkeypatch.setattr(checkpoint, "atomic_write_bytes", watch)
    model = save(tmp_path, tokenizer, 2, with_optimizer=False)  # other weights, the same step
    monkeypatch.undo()
    assert seen == [("model-000002-1.safetensors", True)]
    assert names(tmp_path) == ["config.json", "model-000002-1.safetensors", "tokenizer.json"]
    assert same_weights(load_model(tmp_path).model, model) and optimizer_path(tmp_path) is None
    save(tmp_path, tokenizer, 2)  # and back
    assert weights_path(tmp_path).name == "model-000002.safetensors"


def test_loading_while_a_training_run_saves_follows_the_newer_config(tmp_path, tokenizer, monkeypatch):
    save(tmp_path, tokenizer, 2)
    stale = checkpoint.read_config(tmp_path)  # what a reader saw just before the run saved step 4
    step4 = save(tmp_path, tokenizer, 4)  # which deleted model-000002.safetensors
    reads, real = [], checkpoint.read_config

    def stale_first(run_dir):
        reads.append(run_dir)
        return stale if len(reads) == 1 else real(run_dir)

    monkeypatch.setattr(checkpoint, "read_config", stale_first)
    loaded = load_model(tmp_path)
    assert same_weights(loaded.model, step4) and loaded.config["training"]["step"] == 4


def test_optimizer_state_comes_back_from_the_files_config_names(tmp_path, tokenizer):
    model, optimizer = stepped_model(tokenizer, 3)
    save_checkpoint(tmp_path, model, tokenizer, {"training": {"step": 3}}, optimizer)
    fresh, fresh_optimizer = stepped_model(tokenizer, 0)
    load_weights(fresh, weights_path(tmp_path))
    load_optimizer_state(tmp_path, fresh, fresh_optimizer)
    saved = dict(model.named_parameters())
    for name, parameter in fresh.named_parameters():
        state, expected = fresh_optimizer.state[parameter], optimizer.state[saved[name]]
        assert torch.equal(state["exp_avg_sq"], expected["exp_avg_sq"]) and float(state["step"]) == 3


def format_1(run_dir) -> None:
    """Turn a run folder into the layout from before config.json named its files."""
    config = json.loads((run_dir / "config.json").read_text())
    files = config.pop("files")
    config["format"] = 1
    for role, name in (("weights", "model.safetensors"), ("optimizer", "optimizer.safetensors"),
                       ("optimizer_state", "optimizer.json")):
        (run_dir / files[role]).rename(run_dir / name)
    (run_dir / "config.json").write_text(json.dumps(config))


def test_a_folder_from_before_files_were_named_loads_resumes_and_is_converted_by_the_next_save(tmp_path, tokenizer):
    step2 = save(tmp_path, tokenizer, 2)
    format_1(tmp_path)
    loaded = load_model(tmp_path)
    assert same_weights(loaded.model, step2) and weights_path(tmp_path).name == "model.safetensors"
    fresh, fresh_optimizer = stepped_model(tokenizer, 0)
    load_optimizer_state(tmp_path, fresh, fresh_optimizer)
    assert len(fresh_optimizer.state) == len(list(fresh.parameters()))
    save(tmp_path, tokenizer, 4)
    assert names(tmp_path) == ["config.json", "model-000004.safetensors", "optimizer-000004.json",
                               "optimizer-000004.safetensors", "tokenizer.json"]


def test_the_shipped_default_model_loads_from_its_fixed_names():
    loaded = load_model()
    assert loaded.run_dir == DEFAULT_MODEL_DIR and weights_path(DEFAULT_MODEL_DIR).is_file()
    assert optimizer_path(DEFAULT_MODEL_DIR) is None  # inference only


def test_a_config_naming_files_outside_the_folder_is_refused(tmp_path, tokenizer):
    save(tmp_path, tokenizer, 2)
    config = json.loads((tmp_path / "config.json").read_text())
    config["files"]["weights"] = "../elsewhere/model.safetensors"
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="config.json.*inside the run folder"):
        load_model(tmp_path)


def test_missing_or_truncated_named_weights_are_errors_naming_the_file(tmp_path, tokenizer):
    save(tmp_path, tokenizer, 2)
    weights = tmp_path / "model-000002.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    with pytest.raises(CheckpointError, match="model-000002.safetensors: not valid safetensors"):
        load_model(tmp_path)
    weights.unlink()
    with pytest.raises(CheckpointError, match="model-000002.safetensors: missing"):
        load_model(tmp_path)
