"""The job runner: events arrive in order, cancel stops the generator, late events are dropped."""

from __future__ import annotations

import threading
import time

from PySide6.QtWidgets import QApplication

from app.workers import JobRunner


def counting_job(n: int, closed: threading.Event | None = None, delay: float = 0.0):
    def job(cancel):
        try:
            for i in range(n):
                if delay:
                    time.sleep(delay)
                yield i
            return "all done"
        finally:
            if closed is not None:
                closed.set()
    return job


def test_events_then_finished_with_return_value(qtbot):
    runner = JobRunner("test")
    seen = []
    runner.event.connect(seen.append)
    with qtbot.waitSignal(runner.finished, timeout=5000) as blocker:
        runner.start(counting_job(5))
    assert seen == [0, 1, 2, 3, 4]
    assert blocker.args == ["all done"]
    assert not runner.running


def test_cancel_closes_generator_and_drops_late_events(qtbot):
    runner = JobRunner("test")
    closed = threading.Event()
    seen = []
    runner.event.connect(seen.append)
    runner.start(counting_job(10_000, closed, delay=0.002))
    qtbot.waitUntil(lambda: len(seen) >= 3, timeout=5000)
    with qtbot.waitSignal(runner.cancelled, timeout=1000):
        runner.cancel()
    count = len(seen)
    assert not runner.running
    assert runner.wait(5000)
    assert closed.is_set()  # the generator's finally block ran
    QApplication.processEvents()  # deliver whatever the finished thread queued
    assert len(seen) == count  # nothing arrived after Stop


def test_failure_becomes_one_line_message(qtbot):
    runner = JobRunner("test")

    def job(cancel):
        yield 1
        raise ValueError("cello.mid: corrupt MIDI (bad header)\nmore detail")

    with qtbot.waitSignal(runner.failed, timeout=5000) as blocker:
        runner.start(job)
    assert blocker.args == ["cello.mid: corrupt MIDI (bad header)"]


def test_newer_job_replaces_older_one(qtbot):
    runner = JobRunner("test")
    seen = []
    runner.event.connect(seen.append)
    runner.start(counting_job(10_000, delay=0.002))
    with qtbot.waitSignal(runner.finished, timeout=5000):
        runner.start(lambda cancel: iter(["new"]))
    runner.wait(5000)
    assert seen[-1] == "new"


def test_callback_job_yields_progress_and_returns_the_result(qtbot):
    from app.workers import callback_job

    def work(progress, cancel):
        for step in ("loading", "measuring"):
            progress(step)
        return 42

    runner = JobRunner("test")
    seen = []
    runner.event.connect(seen.append)
    with qtbot.waitSignal(runner.finished, timeout=5000) as blocker:
        runner.start(callback_job(work))
    assert seen == ["loading", "measuring"] and blocker.args == [42]


def test_a_plain_function_runs_in_a_worker_thread_and_returns_its_value(qtbot):
    runner = JobRunner("test")
    threads = []

    def read() -> str:
        threads.append(threading.current_thread())
        return "read"

    with qtbot.waitSignal(runner.finished, timeout=5000) as blocker:
        runner.call(read)
    assert blocker.args == ["read"] and threads[0] is not threading.main_thread()
    assert not runner.running


def test_a_plain_function_that_raises_fails_in_one_line(qtbot):
    runner = JobRunner("test")

    def write():
        raise OSError("take.mid: read-only folder\nmore detail")

    with qtbot.waitSignal(runner.failed, timeout=5000) as blocker:
        runner.call(write)
    assert blocker.args == ["take.mid: read-only folder"]


def test_a_stopped_plain_function_result_is_dropped(qtbot):
    runner = JobRunner("test")
    release = threading.Event()
    finished = []
    runner.finished.connect(finished.append)
    runner.call(lambda: release.wait(5) and "late")
    runner.cancel()
    release.set()
    assert runner.wait(5000)
    QApplication.processEvents()
    assert finished == [] and not runner.running
