"""The `partita` command line end to end, as a user (or torchrun) runs it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import symusic

BIN = Path(sys.executable).parent
TINY = ["--set", "n_layer=1", "--set", "n_head=2", "--set", "n_embd=64", "--set", "block_size=128"]


def partita(*args, env_extra=None, check=True) -> subprocess.CompletedProcess:
    env = {**os.environ, **(env_extra or {})}
    result = subprocess.run([str(BIN / "partita"), *map(str, args)], capture_output=True, text=True, env=env,
                            timeout=600)
    if check and result.returncode != 0:
        raise AssertionError(f"partita {' '.join(map(str, args))} failed:\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    return {"PARTITA_CACHE_DIR": str(tmp_path_factory.mktemp("cache"))}


@pytest.fixture(scope="module")
def folder(tmp_path_factory, cello_midi_dir):
    folder = tmp_path_factory.mktemp("corpus")
    for name in ("BWV1007_04_Sarabande", "BWV1007_05_MenuetI", "BWV1007_06_MenuetII", "BWV1008_05_MenuetI"):
        shutil.copy(cello_midi_dir / f"{name}.mid", folder)
    (folder / "broken.mid").write_bytes(b"MThd\x00\x00")
    return folder


def test_corpus_inspect_prints_every_file_and_saves_json(folder, env, tmp_path):
    result = partita("corpus", "inspect", folder, "--json", tmp_path / "report.json", env_extra=env)
    assert "BWV1007_04_Sarabande.mid" in result.stdout and "SKIPPED" in result.stdout
    assert "4 pieces imported, 1 skipped" in result.stdout
    report = json.loads((tmp_path / "report.json").read_text())
    assert len(report["files"]) == 5 and report["split"]["validation"]


def test_train_then_generate_variations(folder, env, tmp_path):
    run = tmp_path / "run"
    partita("train", "--data", folder, "--out", run, "--steps", "12", "--eval-every", "6", "--batch-size", "4",
            *TINY, env_extra=env)
    assert json.loads((run / "config.json").read_text())["training"]["step"] == 12
    out = tmp_path / "take.mid"
    result = partita("generate", "--model", run, "--prompt", folder / "BWV1007_05_MenuetI.mid", "--prompt-bars", "2",
                     "--bars", "3", "--variations", "2", "--seed", "1", "--out", out, env_extra=env)
    for path in (tmp_path / "take-1.mid", tmp_path / "take-2.mid"):
        score = symusic.Score(path)
        assert len(score.get_downbeats()) == 5
        assert score.tracks[0].program == 42  # the seed's cello
        assert any(m.text == "continuation" for m in score.markers)
    assert "take-2.mid" in result.stdout
    # A resumed run keeps its own model and batch settings without being told them again ...
    resumed = partita("train", "--out", run, "--resume", "--steps", "14", env_extra=env)
    assert "finished at step 14" in resumed.stdout
    assert json.loads((run / "config.json").read_text())["train"]["batch_size"] == 4
    # ... and refuses, in one line, an option that contradicts them.
    conflict = partita("train", "--out", run, "--resume", "--steps", "16", "--preset", "small", check=False,
                       env_extra=env)
    assert conflict.returncode == 2 and "started with 'tiny'" in conflict.stderr, conflict.stderr
    other = partita("train", "--out", run, "--resume", "--steps", "16", "--data", tmp_path, check=False,
                    env_extra=env)
    assert other.returncode == 2 and "the run was started on" in other.stderr, other.stderr
    same = partita("train", "--out", run, "--resume", "--steps", "15", "--data", folder, env_extra=env)
    assert "finished at step 15" in same.stdout


def test_user_mistakes_are_one_line_errors(tmp_path, env):
    missing = partita("train", "--data", tmp_path / "nowhere", "--out", tmp_path / "run", check=False, env_extra=env)
    assert missing.returncode == 2 and "no such folder" in missing.stderr and "Traceback" not in missing.stderr
    bad_model = partita("generate", "--model", tmp_path, "--out", tmp_path / "x.mid", check=False, env_extra=env)
    assert bad_model.returncode == 2 and "no config.json" in bad_model.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    nothing = partita("corpus", "inspect", empty, check=False, env_extra=env)
    assert nothing.returncode == 2 and "no music files there" in nothing.stderr
    (empty / "fake.mid").write_text("not music")
    unusable = partita("corpus", "inspect", empty, check=False, env_extra=env)
    assert unusable.returncode == 1 and "fake.mid" in unusable.stdout and "could be imported" in unusable.stderr
    assert "pitches" not in unusable.stdout  # no range of pitches out of no music
    for option, named in ((("--set", "n_layer=abc"), "not a number"), (("--eval-every", "0"), "--eval-every must be")):
        refused = partita("train", "--data", tmp_path, "--out", tmp_path / "run", *option, check=False,
                          env_extra=env)
        assert refused.returncode == 2 and named in refused.stderr and "Traceback" not in refused.stderr
    import torch

    if not torch.cuda.is_available():
        no_gpu = partita("generate", "--device", "cuda", "--out", tmp_path / "x.mid", check=False, env_extra=env)
        assert no_gpu.returncode == 2 and "--device cuda: not usable" in no_gpu.stderr, no_gpu.stderr


def test_generate_works_out_of_the_box_with_the_shipped_model(tmp_path, env, cello_xml_dir):
    from core.learning.checkpoint import DEFAULT_MODEL_DIR

    if not (DEFAULT_MODEL_DIR / "config.json").exists():
        pytest.skip("no shipped default model in resources/models/default")
    partita("generate", "--prompt", cello_xml_dir / "BWV1007_01_Prelude.mxl", "--prompt-bars", "2", "--bars", "4",
            "--seed", "3", "--out", tmp_path / "default.mid", env_extra=env)
    assert len(symusic.Score(tmp_path / "default.mid").get_downbeats()) == 6


def test_torchrun_trains_with_ddp_on_two_cpu_processes(folder, env, tmp_path):
    run = tmp_path / "ddp"
    command = [str(BIN / "torchrun"), "--nproc_per_node", "2", "--master_port", "29517", str(BIN / "partita"),
               "train", "--data", str(folder), "--out", str(run), "--steps", "4", "--eval-every", "4",
               "--batch-size", "2", "--device", "cpu", *TINY]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600,
                            env={**os.environ, **env, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stdout + result.stderr
    config = json.loads((run / "config.json").read_text())
    assert config["training"] == {**config["training"], "step": 4, "world_size": 2}
    steps = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert sum(1 for s in steps if s["event"] == "TrainStep") == 4  # only rank 0 writes


def test_patience_stops_every_process_of_a_ddp_run_at_the_same_step(folder, env, tmp_path):
    # A learning rate of 1e-30 leaves the fp32 weights bit for bit as they were, so every validation
    # loss equals the first: the second pass is one without a lower loss, and patience 1 stops the run.
    # Were the processes not told, rank 0 would stop alone and the others wait for it forever.
    run = tmp_path / "ddp"
    command = [str(BIN / "torchrun"), "--nproc_per_node", "2", "--master_port", "29518", str(BIN / "partita"),
               "train", "--data", str(folder), "--out", str(run), "--steps", "8", "--eval-every", "2",
               "--patience", "1", "--lr", "1e-30", "--warmup", "0", "--batch-size", "2", "--device", "cpu", *TINY]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300,
                            env={**os.environ, **env, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "stopped at step 4: 1 validation pass without a lower loss" in result.stdout, result.stdout
    assert json.loads((run / "config.json").read_text())["training"]["step"] == 4
