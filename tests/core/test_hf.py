"""The Hugging Face layout: transformers' GPT-2 computes Partita's logits on real music, a model
comes back from it with the same weights and vocabulary, and a GPT-2 that would compute another
function (non-zero biases after training elsewhere) or has no Partita tokenizer is refused."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import symusic
import torch
from safetensors.torch import load_file, save_file

from core.learning.checkpoint import CheckpointError, LoadedModel, load_model, save_checkpoint
from core.learning.hf import PARTITA_KINDS, PARTITA_TOKENIZER, export_hf, load_hf
from core.learning.model import ModelConfig, Transformer
from core.learning.tokenizer import PartitaTokenizer, TokenizerSettings

transformers = pytest.importorskip("transformers")

TINY = {"n_layer": 2, "n_head": 2, "n_embd": 32, "block_size": 128}
PIECE = "BWV1007_04_Sarabande.mid"


def random_model(bias: bool = False) -> LoadedModel:
    """A REMI model with every weight random, LayerNorm gains included (a mapping that swapped,
    forgot a transpose of a square matrix, or dropped a gain would change the logits)."""
    tokenizer = PartitaTokenizer.create(TokenizerSettings())
    torch.manual_seed(0)
    model = Transformer(ModelConfig(vocab_size=len(tokenizer), dropout=0.1, bias=bias, **TINY))
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            parameter.copy_(1 + 0.3 * torch.randn_like(parameter) if "ln" in name else 0.2 * torch.randn_like(parameter))
    config = {"model": model.config.to_json(), "tokenizer": tokenizer.settings.to_json(),
              "corpus": {"name": "cello", "program": 42}, "training": {"step": 7}}
    return LoadedModel(model.eval(), tokenizer, config, Path("tiny"))


@pytest.fixture(scope="module")
def tiny() -> LoadedModel:
    return random_model()


@pytest.fixture(scope="module")
def biased() -> LoadedModel:
    """`--set bias=true`: its biases are exported as they are, and come back."""
    return random_model(bias=True)


@pytest.fixture(scope="module")
def shipped() -> LoadedModel:
    """The shipped default model: BPE, 1000 tokens."""
    return load_model()


@pytest.fixture(params=["tiny", "biased", "shipped"])
def loaded(request) -> LoadedModel:
    return request.getfixturevalue(request.param)


def real_sequence(loaded: LoadedModel, midi_dir: Path) -> torch.Tensor:
    """BOS and the first tokens of a cello movement, as model ids (BPE merged where the model has it)."""
    tokenizer = loaded.tokenizer
    ids = tokenizer.to_model_ids(tokenizer.encode(symusic.Score(midi_dir / PIECE)))
    assert len(ids) >= loaded.model.config.block_size
    return torch.tensor([[tokenizer.bos_id, *ids[: loaded.model.config.block_size - 1]]])


def test_transformers_gpt2_gives_partitas_logits_on_a_real_piece(loaded, cello_midi_dir, tmp_path):
    export_hf(loaded, tmp_path)
    hf = transformers.AutoModelForCausalLM.from_pretrained(tmp_path).eval()
    assert type(hf).__name__ == "GPT2LMHeadModel"
    ids = real_sequence(loaded, cello_midi_dir)
    with torch.no_grad():
        ours, _ = loaded.model(ids)
        theirs = hf(ids).logits
    assert ours.shape == theirs.shape == (1, loaded.model.config.block_size, len(loaded.tokenizer))
    torch.testing.assert_close(theirs, ours, atol=1e-4, rtol=0)
    config = json.loads((tmp_path / "config.json").read_text())
    assert (config["bos_token_id"], config["eos_token_id"]) == (loaded.tokenizer.bos_id, loaded.tokenizer.eos_id)


def test_export_then_load_keeps_weights_vocabulary_and_encoding(loaded, cello_midi_dir, tmp_path):
    export_hf(loaded, tmp_path)
    back = load_hf(tmp_path)
    assert back.model.config == loaded.model.config
    ours, theirs = loaded.model.state_dict(), back.model.state_dict()
    assert ours.keys() == theirs.keys()
    assert all(torch.equal(ours[name], theirs[name]) for name in ours)
    assert back.tokenizer.settings == loaded.tokenizer.settings
    assert back.tokenizer.model_tokens == loaded.tokenizer.model_tokens  # BPE merges included
    score = symusic.Score(cello_midi_dir / PIECE)
    assert back.tokenizer.to_model_ids(back.tokenizer.encode(score)).tolist() == \
        loaded.tokenizer.to_model_ids(loaded.tokenizer.encode(score)).tolist()
    assert (back.program, back.step) == (loaded.program, loaded.step)
    # miditok reads its own file beside it
    import miditok

    # (Partita's own tokens follow miditok's; its file holds miditok's)
    miditok_vocab = {t: i for t, i in loaded.tokenizer.inner.vocab.items() if t.split("_", 1)[0] not in PARTITA_KINDS}
    assert miditok.REMI(params=tmp_path / "tokenizer.json").vocab == miditok_vocab
    # load_model takes the folder as it takes a run folder
    assert torch.equal(load_model(tmp_path).model.wte.weight, loaded.model.wte.weight)


def test_a_model_saved_back_by_transformers_loads_with_the_same_weights(tiny, tmp_path):
    export_hf(tiny, tmp_path / "export")
    hf = transformers.AutoModelForCausalLM.from_pretrained(tmp_path / "export")
    hf.save_pretrained(tmp_path / "saved")  # transformers' own writer: its names, metadata and config
    (tmp_path / "saved" / PARTITA_TOKENIZER).write_bytes((tmp_path / "export" / PARTITA_TOKENIZER).read_bytes())
    back = load_hf(tmp_path / "saved")
    assert back.program == 42
    assert all(torch.equal(back.model.state_dict()[k], v) for k, v in tiny.model.state_dict().items())


def test_a_gpt2_trained_elsewhere_with_its_biases_is_refused(tiny, tmp_path):
    export_hf(tiny, tmp_path)
    hf = transformers.AutoModelForCausalLM.from_pretrained(tmp_path)
    ids = torch.randint(0, len(tiny.tokenizer), (2, 16), generator=torch.Generator().manual_seed(0))
    optimizer = torch.optim.SGD(hf.parameters(), lr=0.1)
    hf(ids, labels=ids).loss.backward()
    optimizer.step()  # a fine-tuning step moves GPT-2's biases off zero
    hf.save_pretrained(tmp_path)
    with pytest.raises(CheckpointError, match=r"model\.safetensors: transformer\.h\.\d\.[\w.]+\.bias is not zero"):
        load_hf(tmp_path)


def test_a_single_nonzero_bias_is_named(tiny, tmp_path):
    export_hf(tiny, tmp_path)
    tensors = load_file(tmp_path / "model.safetensors")
    tensors["transformer.ln_f.bias"][3] = 0.5
    save_file(tensors, tmp_path / "model.safetensors", metadata={"format": "pt"})
    with pytest.raises(CheckpointError) as error:
        load_model(tmp_path)
    assert str(error.value) == (f"{tmp_path / 'model.safetensors'}: transformer.ln_f.bias is not zero (largest "
                                "|value| 0.5); Partita's model has no biases (bias=False), so it would compute "
                                "another function")


def test_a_gpt2_without_partitas_tokenizer_is_refused(tmp_path):
    config = transformers.GPT2Config(vocab_size=64, n_positions=32, n_embd=16, n_layer=1, n_head=2)
    transformers.GPT2LMHeadModel(config).save_pretrained(tmp_path)
    with pytest.raises(CheckpointError, match=re.escape(f"{tmp_path}: no {PARTITA_TOKENIZER}")):
        load_model(tmp_path)


def partita(*args) -> subprocess.CompletedProcess:
    return subprocess.run([str(Path(sys.executable).parent / "partita"), *map(str, args)], capture_output=True,
                          text=True, env=dict(os.environ), timeout=300)


def test_export_model_command_writes_a_folder_generate_can_use(tiny, tmp_path):
    run = tmp_path / "run"
    save_checkpoint(run, tiny.model, tiny.tokenizer, {"training": {"step": 7}, "corpus": {"program": 42}})
    result = partita("export-model", "--hf", tmp_path / "hf", "--model", run, "--best")
    assert result.returncode == 0, result.stderr
    assert "from_pretrained gives Partita's logits" in result.stdout
    back = load_model(tmp_path / "hf")
    assert all(torch.equal(back.model.state_dict()[k], v) for k, v in tiny.model.state_dict().items())
    take = partita("generate", "--model", tmp_path / "hf", "--bars", "1", "--seed", "0", "--out", tmp_path / "t.mid")
    assert take.returncode == 0, take.stderr
    assert symusic.Score(tmp_path / "t.mid").tracks[0].program == 42
    # a run folder is never written over
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    refused = partita("export-model", "--hf", run, "--model", run)
    assert refused.returncode == 2 and "holds other files" in refused.stderr, refused.stderr
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before


def test_loading_the_layout_needs_no_transformers(tiny, tmp_path):
    export_hf(tiny, tmp_path)
    code = ("import sys; sys.modules['transformers'] = None  # any import of it fails\n"
            "from core.learning.checkpoint import load_model; print(load_model(sys.argv[1]).model.config.n_layer)")
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parents[2], timeout=300)
    assert result.returncode == 0 and result.stdout.strip() == str(TINY["n_layer"]), result.stderr
