"""Fixtures for the window tests: isolated settings and state, a tiny trained run, real data."""

from __future__ import annotations

import faulthandler
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from app.compat import protect_singletons
from core.midi.ports import CollectingOutput

protect_singletons()  # see app/compat.py: PySide6 6.12 on Python 3.11 leaks references to None and True

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
CELLO_MIDI = SHARED / "mutopia-bach-midi" / "cello-suites"


def cello_midi_files(count: int) -> list[Path]:
    if not CELLO_MIDI.exists():
        pytest.skip(f"real music data not found at {CELLO_MIDI} (../shared/data beside the repo)")
    return sorted(CELLO_MIDI.glob("*.mid"))[:count]


HANG_S = int(os.environ.get("PARTITA_TEST_HANG_S", "240"))  # far beyond the slowest window test (~60 s loaded)
# Where the watchdog writes the stacks (pytest captures file descriptor 2 during a test, and an
# exit from the watchdog would lose them there); ./test reads it to tell a hang from a failure.
HANG_REPORT = Path(os.environ.get("PARTITA_HANG_REPORT", Path(tempfile.gettempdir()) / "partita-test-hang.txt"))
_hang_report = None


@pytest.fixture(autouse=True)
def hang_watchdog():
    """A window test that deadlocks must end the run with every thread's stack, not stall it.

    These tests did deadlock now and then, the GUI thread and a worker each waiting for what the
    other held (the GIL, a Qt mutex), until cyclic garbage collection was kept out of worker
    threads (app/workers.py). Should a deadlock come back, pytest-timeout cannot act (it needs
    the GIL); faulthandler's watchdog is plain C and can.
    """
    global _hang_report
    if _hang_report is None:
        _hang_report = open(HANG_REPORT, "w")  # noqa: SIM115 (kept open: the watchdog writes to it)
    faulthandler.dump_traceback_later(HANG_S, exit=True, file=_hang_report)
    yield
    faulthandler.cancel_dump_traceback_later()


@pytest.fixture(autouse=True)
def clipboard_released():
    """What a test put on the clipboard is taken back after it, as the app takes its notes back when
    it quits (app.pianoroll.editing.release_clipboard): a process still holding clipboard data when
    the QApplication goes crashes at exit. Here everything goes, "another program's" too."""
    yield
    from PySide6.QtGui import QGuiApplication

    clipboard = QGuiApplication.clipboard()  # (None where a test made no application)
    if clipboard is not None:
        clipboard.clear()


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path_factory, tmp_path, monkeypatch):
    """Corpus cache shared by the session's tests; user folders (runs, state) per test."""
    monkeypatch.setenv("PARTITA_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "corpus-cache"))
    monkeypatch.setenv("PARTITA_HOME", str(tmp_path / "partita-home"))


@pytest.fixture
def make_window(qtbot, tmp_path):
    """Build MainWindows sharing one settings file and state folder (a restart = a second call)."""
    from app.mainwindow import MainWindow

    outputs = []

    def make(restore_session: bool = True):
        settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)

        def output():
            outputs.append(CollectingOutput())
            return outputs[-1]

        window = MainWindow(settings, tmp_path / "state", transport_output=output, restore_session=restore_session)
        qtbot.addWidget(window)
        window.outputs = outputs
        return window

    return make


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory) -> Path:
    """A folder with two real cello-suite movements (links, not copies)."""
    folder = tmp_path_factory.mktemp("tiny-corpus")
    for path in cello_midi_files(3):
        try:
            os.symlink(path, folder / path.name)
        except OSError:
            shutil.copy(path, folder / path.name)
    return folder


def tiny_config(data: Path, out: Path, steps: int = 30):
    from core.learning.training import TrainConfig

    return TrainConfig(data=str(data), out=str(out), preset="tiny", steps=steps, batch_size=4, eval_every=10,
                       eval_windows=4, warmup_steps=5, device="cpu",
                       model_overrides={"n_layer": 1, "n_head": 2, "n_embd": 32, "block_size": 64})


@pytest.fixture(scope="session")
def tiny_run(tiny_data, tmp_path_factory) -> Path:
    """A run folder with a minute model trained for a few steps (no Qt): generation's model."""
    from core.learning.training import train

    out = tmp_path_factory.mktemp("runs") / "tiny"
    os.environ.setdefault("PARTITA_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "corpus-cache"))
    for _ in train(tiny_config(tiny_data, out, steps=10)):
        pass
    return out
