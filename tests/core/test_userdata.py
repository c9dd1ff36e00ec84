"""core.userdata: the user's folders and the log file a user can attach to a bug report."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from core.userdata import LOG_BACKUPS, LOG_FILE, resumable_runs, setup_logging, user_dirs

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def clean_root_logger():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    hooks = (sys.excepthook, threading.excepthook)
    yield
    for handler in [h for h in root.handlers if h not in handlers]:
        root.removeHandler(handler)
        handler.close()
    root.setLevel(level)
    sys.excepthook, threading.excepthook = hooks


def test_folders_follow_the_xdg_variables_on_linux(monkeypatch, tmp_path):
    if not sys.platform.startswith("linux"):
        pytest.skip("XDG folders are Linux's")
    for name in ("XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(name, str(tmp_path / name.lower()))
    monkeypatch.delenv("PARTITA_HOME", raising=False)
    monkeypatch.delenv("PARTITA_CACHE_DIR", raising=False)
    dirs = user_dirs()
    assert dirs.runs == tmp_path / "xdg_data_home" / "partita" / "runs"
    assert dirs.corpus_cache == tmp_path / "xdg_cache_home" / "partita" / "corpus"
    assert dirs.sessions == tmp_path / "xdg_state_home" / "partita"  # where app/session.py autosaves
    assert dirs.logs == tmp_path / "xdg_state_home" / "partita" / "log"


def test_partita_home_puts_everything_in_one_folder_and_ensure_creates_it(monkeypatch, tmp_path):
    monkeypatch.setenv("PARTITA_HOME", str(tmp_path / "portable"))
    dirs = user_dirs().ensure()
    for path in (dirs.runs, dirs.corpus_cache, dirs.sessions, dirs.logs):
        assert path.is_dir() and path.is_relative_to(tmp_path / "portable")


def test_corpus_cache_matches_core_corpus(monkeypatch, tmp_path):
    from core.music.corpus import default_cache_dir

    monkeypatch.delenv("PARTITA_HOME", raising=False)
    monkeypatch.setenv("PARTITA_CACHE_DIR", str(tmp_path / "cache"))
    assert user_dirs().corpus_cache == default_cache_dir()
    monkeypatch.delenv("PARTITA_CACHE_DIR")
    assert user_dirs().corpus_cache == default_cache_dir()


def test_log_file_gets_records_rotates_and_is_not_duplicated(tmp_path, clean_root_logger):
    path = setup_logging(log_dir=tmp_path)
    setup_logging(log_dir=tmp_path)  # a second call replaces, never stacks, its handlers
    logging.getLogger("core.learning.training").warning("checkpoint saved at step %d", 7)
    text = path.read_text()
    assert path.name == LOG_FILE
    assert "start: Partita" in text and "Python" in text
    assert text.count("checkpoint saved at step 7") == 1
    handler = next(h for h in logging.getLogger().handlers if getattr(h, "_partita", False))
    handler.maxBytes = 2000
    for i in range(200):
        logging.getLogger("x").info("line %d %s", i, "x" * 50)
    rotated = sorted(p.name for p in tmp_path.iterdir())
    assert rotated == [LOG_FILE] + [f"{LOG_FILE}.{i}" for i in range(1, LOG_BACKUPS + 1)]


def test_an_uncaught_exception_lands_in_the_log_with_its_traceback(tmp_path):
    script = ("from core.userdata import setup_logging\n"
              f"setup_logging(log_dir=r'{tmp_path}')\n"
              "def compose():\n    raise RuntimeError('the model exploded')\n"
              "compose()\n")
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 1 and "the model exploded" in result.stderr  # still shown as usual
    text = (tmp_path / LOG_FILE).read_text()
    assert "CRITICAL" in text and "Traceback" in text and "in compose" in text and "the model exploded" in text


def test_unwritable_log_folder_falls_back_to_stderr(tmp_path, clean_root_logger, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    setup_logging(log_dir=blocker / "log")  # a folder under a file cannot exist, even for root
    assert "cannot write the log file" in capsys.readouterr().err
    assert any(isinstance(h, logging.StreamHandler) and getattr(h, "_partita", False)
               for h in logging.getLogger().handlers)


def test_resumable_runs_are_unfinished_complete_checkpoints_newest_first(tmp_path):
    def run(name: str, step: int, steps: int, weights: str | None = "model-{step:06d}.safetensors",
            config: str | None = None, named: str | None = None) -> Path:
        folder = tmp_path / name
        folder.mkdir()
        named = named or (weights or "model-{step:06d}.safetensors").format(step=step)
        (folder / "config.json").write_text(config if config is not None else json.dumps(
            {"training": {"step": step}, "train": {"steps": steps}, "files": {"weights": named}}))
        if weights:
            (folder / weights.format(step=step)).write_bytes(b"x")
        return folder

    older = run("older", 200, 1000)
    finished = run("finished", 1000, 1000)
    newer = run("newer", 400, 2000)
    run("no-weights", 10, 100, weights=None)
    run("other-weights", 20, 100, named="model-000010.safetensors")  # killed mid-save: step 20's weights, unnamed
    run("half-written", 0, 0, config='{"training": {"st')
    legacy = run("legacy", 100, 1000, weights="model.safetensors",  # written before config.json named its files
                 config=json.dumps({"training": {"step": 100}, "train": {"steps": 1000}}))
    os.utime(older / "config.json", (1, 1))
    os.utime(legacy / "config.json", (0, 0))
    assert resumable_runs(tmp_path) == [newer, older, legacy]
    assert finished not in resumable_runs(tmp_path)
