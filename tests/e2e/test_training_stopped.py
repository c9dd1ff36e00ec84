"""Training stopped from outside or by itself: Ctrl+C saves where it stopped (as SIGTERM does), and
a run whose loss stops being a number ends with its last good checkpoint and says why."""

from __future__ import annotations

import json
import signal
import subprocess
import time

from test_survival import REPO, TINY, checkpoint_step, env_for, partita_cmd, run


def test_ctrl_c_during_training_saves_where_it_stopped_and_resumes(tmp_path, inventions):
    """Ctrl+C (SIGINT) saves as SIGTERM does, long before the next --eval-every checkpoint, and the
    resumed run keeps its own --steps and --eval-every when they are not given again."""
    run_dir = tmp_path / "run"
    log = tmp_path / "stderr.txt"
    with open(log, "w") as err:
        process = subprocess.Popen(partita_cmd("train", "--data", inventions, "--out", run_dir, "--steps", "100000",
                                               "--eval-every", "1000", *TINY),
                                   cwd=REPO, env=env_for(tmp_path), stdout=subprocess.PIPE, stderr=err, text=True)
        deadline = time.monotonic() + 240
        metrics = run_dir / "metrics.jsonl"
        while not (metrics.exists() and metrics.read_text().count("TrainStep") >= 3):
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()[-2000:]
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=120)
    assert process.returncode == 130, log.read_text()[-2000:]
    step = checkpoint_step(run_dir)
    assert 3 <= step < 1000 and "resume with" in out
    saved = json.loads((run_dir / "config.json").read_text())["train"]  # what --resume continues with
    assert saved["steps"] == 100000 and saved["eval_every"] == 1000


def test_training_that_diverges_stops_keeps_the_last_good_checkpoint_and_says_why(tmp_path, inventions):
    from core.learning.checkpoint import load_model

    run_dir = tmp_path / "run"
    result = run(partita_cmd("train", "--data", inventions, "--out", run_dir, "--steps", "60", "--eval-every", "2",
                             *TINY[:-6], "--lr", "1e30", "--warmup", "0", "--seed", "0"), tmp_path)
    assert result.returncode == 1, result.stdout[-2000:] + result.stderr[-2000:]
    assert "no longer a finite number" in result.stdout and "last good checkpoint" in result.stdout
    if (run_dir / "config.json").exists():  # a checkpoint before the loss went: whole, finite weights
        loaded = load_model(run_dir)
        assert all(bool(p.isfinite().all()) for p in loaded.model.parameters())
    refused = run(partita_cmd("train", "--data", inventions, "--out", tmp_path / "inf", "--lr", "inf", *TINY), tmp_path)
    assert refused.returncode != 0 and "learning rate" in refused.stderr
