"""Cyclic garbage is collected in the GUI thread only, never in a job's thread.

A collection in a worker frees whatever window objects sit in garbage cycles there, and under
PySide6 6.11/6.12 destroying QObjects in the worker deadlocks against the GUI thread (the
worker's ~QObject holds Qt's signal-slot mutex and waits for the GIL; the GUI thread holds the
GIL and waits for that mutex) or corrupts reference counts. See app/workers.py.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from app.workers import JobRunner

ROOT = Path(__file__).resolve().parents[2]


def test_collections_run_in_the_gui_thread_only(qtbot):
    runner = JobRunner("gc")
    threads = []

    def note(phase, info):
        if phase == "start":
            threads.append(threading.current_thread() is threading.main_thread())

    def job(cancel):
        for _ in range(25):
            for _ in range(2000):  # cyclic garbage: only a collection frees it
                node = []
                node.append(node)
            time.sleep(0.02)
            yield None

    gc.callbacks.append(note)
    try:
        with qtbot.waitSignal(runner.finished, timeout=30000):
            runner.start(job)
        qtbot.waitUntil(lambda: len(threads) > 0, timeout=5000)  # garbage is still collected...
    finally:
        gc.callbacks.remove(note)
    assert all(threads), f"{threads.count(False)} of {len(threads)} collections ran in the job's thread"


# The deadlock itself, in a child process (a deadlocked test could not end on its own): a GUI
# thread that keeps making windows that only a collection can free (they hold themselves), and
# a job whose allocations would trigger collections in its own thread. Before the fix about 3
# runs in 4 of this child hung or crashed within its 2.5 s; now none does.
CHILD = """
import os, sys, time
sys.path.insert(0, sys.argv[1])
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication, QMenu, QPushButton, QWidget
from app.compat import protect_singletons
from app.workers import JobRunner

protect_singletons()


class Receiver(QObject):
    poke = Signal()

    def __init__(self, owner):
        super().__init__()
        self.owner = owner

    def slot(self):
        pass


class Panel(QWidget):
    def __init__(self):
        super().__init__()
        self.menu = QMenu(self)
        for i in range(3):
            self.menu.addAction(str(i))
        self.buttons = [QPushButton(str(i), self) for i in range(3)]
        self.receivers = [Receiver(self) for _ in range(3)]
        for button, receiver in zip(self.buttons, self.receivers):
            button.clicked.connect(receiver.slot)
            receiver.poke.connect(button.click)
        self.me = self


def job(cancel):
    end = time.monotonic() + float(sys.argv[2])
    while time.monotonic() < end and not cancel():
        tick = time.monotonic() + 0.05
        while time.monotonic() < tick:
            junk = [[i] for i in range(2000)]
            del junk
        yield None


app = QApplication([])
runner = JobRunner("stress")
churn = QTimer()
churn.timeout.connect(lambda: [Panel() for _ in range(5)])
churn.start(1)
runner.finished.connect(app.quit)
runner.start(job)
app.exec()
runner.wait()
print("ok", flush=True)
os._exit(0)  # not the interpreter's teardown: it is not what this test is about
"""


def test_windows_garbage_and_a_busy_job_do_not_deadlock():
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    try:
        result = subprocess.run([sys.executable, "-c", CHILD, str(ROOT), "2.5"], env=env, capture_output=True,
                                text=True, timeout=60)
    except subprocess.TimeoutExpired:
        raise AssertionError("the GUI thread and the job deadlocked (child still running after 60 s)") from None
    assert result.returncode == 0 and "ok" in result.stdout, \
        f"child ended with {result.returncode}:\n{result.stderr[-2000:]}"
