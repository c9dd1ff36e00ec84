"""Background jobs: a core generator runs in a QThread and its events come back as signals.

This is the one adapter between the engine's long-running generators (`import_corpus` per
file, `train`, `stream_generation`, `evaluate`, playback) and the window. The contract, after
superqt's `GeneratorWorker` and Orange's `TaskState`:

* a job is `job(cancel) -> Iterator[event]`; `cancel()` returns True once Stop was asked for,
  and the generator may check it too (core's `should_stop=` / `cancel=` arguments); work with
  nothing to report on the way (reading a file, writing an export) is a plain function
  instead, run by `JobRunner.call`, whose return value is the result;
* the worker checks the flag at each yield and closes the generator (so `finally` blocks and
  `GeneratorExit` handlers run: training saves its checkpoint there);
* every yielded event is emitted as-is: events are small frozen dataclasses, plain data;
* a cancelled job's late events are dropped, and a newer job's start drops an older job's
  events. With `deliver_after_cancel` (training) the generator is trusted to wind down by
  itself on `cancel()` instead: it is not closed, and its last events (the final checkpoint,
  `TrainDone`) still arrive.

Never touch widgets from a job: it runs in another thread. Nor may a job's thread free window
objects by accident: the first runner moves Python's cyclic garbage collector to the GUI thread
(`collect_garbage_in_gui_thread`, below, says why).
"""

from __future__ import annotations

import gc
import itertools
import logging
import threading
import traceback
from collections.abc import Callable, Iterator

from PySide6.QtCore import QCoreApplication, QObject, QThread, QTimer, Signal, Slot

log = logging.getLogger(__name__)

Cancel = Callable[[], bool]
Job = Callable[[Cancel], Iterator[object]]
_ids = itertools.count(1)


def describe_error(error: BaseException) -> str:
    """One line for an error dialog: the engine's own message for expected failures."""
    text = str(error).strip().splitlines()
    message = text[0] if text else ""
    if isinstance(error, (ValueError, OSError, KeyError, LookupError)) and message:
        return message
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


GC_INTERVAL_MS = 200  # how often the GUI thread checks whether a collection is due


class _GuiThreadCollector(QObject):
    """Python's cyclic garbage collector, run by a timer in the GUI thread and nowhere else.

    Left automatic, a collection runs in whichever thread happens to allocate when a threshold
    is crossed: a training or generation job, a player thread. If the garbage holds a cycle with
    Qt objects (a closed window or dialog, an old panel: any lambda connected to a signal that
    captures `self` makes one), the job's thread then destroys those QObjects. Under PySide6
    6.11/6.12 that deadlocks now and then: the worker's `~QObject` holds Qt's signal-slot mutex
    (a pool shared by all objects) and waits for the GIL to look up a Python override on a
    connected widget's wrapper, while the GUI thread holds the GIL and waits for that mutex
    (seen with gdb in tests/app/test_panels.py; tests/app/test_worker_gc.py reproduces it), or
    crashes (the GUI thread uses a widget the worker has just freed). Collecting only in the GUI
    thread, as pyqtgraph's `GarbageCollector` does, frees Qt objects where they live. When to
    collect which generation follows CPython's own rules, so full collections (~150 ms with
    torch and the window loaded) stay as rare as they were.
    """

    def __init__(self):
        super().__init__()
        self.thresholds = gc.get_threshold()
        # CPython's guard against quadratic full collections: the oldest generation is collected
        # only once the objects promoted into it since its last collection (`pending`) exceed a
        # quarter of the objects that survived that collection (`long_lived`).
        self.long_lived = len(gc.get_objects(generation=2))
        self.pending = 0
        self.timer = QTimer(self)
        self.timer.setInterval(GC_INTERVAL_MS)
        self.timer.timeout.connect(self.collect)
        gc.disable()
        self.timer.start()

    @Slot()
    def collect(self) -> None:
        """Collect the oldest generation that is due, by CPython's rules (3.11 `gc_collect_generations`)."""
        if gc.isenabled():  # something turned automatic collection back on: a worker may collect again
            log.warning("automatic garbage collection was re-enabled; turning it off again")
            gc.disable()
        counts = gc.get_count()
        for generation in (2, 1, 0):
            if counts[generation] <= self.thresholds[generation]:
                continue
            if generation == 2:
                if self.pending <= self.long_lived // 4:
                    continue
                gc.collect(2)
                self.long_lived, self.pending = len(gc.get_objects(generation=2)), 0
            elif generation == 1:
                young = len(gc.get_objects(generation=0)) + len(gc.get_objects(generation=1))
                self.pending += max(0, young - gc.collect(1))  # the survivors move to generation 2
            else:
                gc.collect(0)
            return


_collector: _GuiThreadCollector | None = None


def collect_garbage_in_gui_thread() -> bool:
    """Turn automatic garbage collection off and collect from a GUI-thread timer instead.

    Called by every JobRunner (created in the GUI thread); idempotent. Returns False where it
    cannot act (no QCoreApplication yet, or called from another thread).
    """
    global _collector
    if _collector is not None:
        return True
    if QCoreApplication.instance() is None or threading.current_thread() is not threading.main_thread():
        return False
    _collector = _GuiThreadCollector()
    return True


class _Task(QObject):
    """Lives in the worker thread and drives one generator to its end."""

    yielded = Signal(int, object)
    done = Signal(int, object)
    failed = Signal(int, str)

    def __init__(self, job_id: int, job: Job | Callable[[], object], graceful: bool = False, plain: bool = False):
        super().__init__()
        self.job_id = job_id
        self.job = job
        self.graceful = graceful  # let the generator see cancel() and finish by itself
        self.plain = plain  # `job` is a plain function of no arguments: its return value is the result
        self.cancel_flag = threading.Event()

    @Slot()
    def run(self) -> None:
        try:
            self._drive()
        finally:
            self.thread().quit()  # thread-safe; works even while the GUI thread waits on us

    def _drive(self) -> None:
        if self.plain and self.cancel_flag.is_set() and not self.graceful:
            return  # stopped (or replaced) before it began: as a generator job, it never runs
        try:
            result = self.job() if self.plain else self._drain(self.job(self.cancel_flag.is_set))
        except Exception as error:  # reported to the window as a dialog, logged with its traceback
            log.error("job %s failed:\n%s", self.job_id, traceback.format_exc())
            self.failed.emit(self.job_id, describe_error(error))
            return
        self.done.emit(self.job_id, result)

    def _drain(self, generator: Iterator[object]) -> object:
        """Emit each event of `generator` until it ends (its return value) or Stop closes it (None)."""
        while True:
            if self.cancel_flag.is_set() and not self.graceful:
                generator.close()
                return None
            try:
                event = next(generator)
            except StopIteration as stop:
                return stop.value
            self.yielded.emit(self.job_id, event)


class JobRunner(QObject):
    """One kind of job (import, training, generation, ...), at most one current at a time."""

    event = Signal(object)  # each yielded event of the current job
    finished = Signal(object)  # the job ended by itself (or after Stop): the generator's or function's return value
    failed = Signal(str)  # the job raised: one line saying what happened
    cancelled = Signal()  # Stop was asked for; emitted at once, before the thread has wound down
    runningChanged = Signal(bool)

    def __init__(self, name: str, parent: QObject | None = None, *, deliver_after_cancel: bool = False):
        super().__init__(parent)
        collect_garbage_in_gui_thread()  # a job's thread must never free window objects (see above)
        self.name = name
        self.deliver_after_cancel = deliver_after_cancel
        self._task: _Task | None = None
        self._threads: dict[int, tuple[QThread, _Task]] = {}  # alive until their thread finishes

    @property
    def running(self) -> bool:
        return self._task is not None

    def start(self, job: Job) -> int:
        """Run the generator `job` in a new thread; a job still running is cancelled and its events dropped."""
        return self._start(job, plain=False)

    def call(self, function: Callable[[], object]) -> int:
        """Run a plain function in a new thread (reading a file, writing one): its return value comes
        as `finished`, its exception as `failed`. Stop before it begins means it never runs; after,
        the result is dropped (unless the runner delivers after cancel); a job still running is
        cancelled, as `start` does."""
        return self._start(function, plain=True)

    def _start(self, job: Job | Callable[[], object], plain: bool) -> int:
        if self._task is not None:
            self._task.cancel_flag.set()
        job_id = next(_ids)
        thread = QThread()
        thread.setObjectName(f"partita-{self.name}-{job_id}")
        task = _Task(job_id, job, graceful=self.deliver_after_cancel, plain=plain)
        task.moveToThread(thread)
        thread.started.connect(task.run)
        task.yielded.connect(self._on_yielded)
        task.done.connect(self._on_done)
        task.failed.connect(self._on_failed)
        thread.finished.connect(lambda job_id=job_id: self._reap(job_id))
        self._threads[job_id] = (thread, task)
        self._task = task
        thread.start()
        self.runningChanged.emit(True)
        return job_id

    def cancel(self) -> None:
        """Ask the current job to stop; the UI can treat it as stopped from now on."""
        task = self._task
        if task is None or task.cancel_flag.is_set():
            return
        task.cancel_flag.set()
        if not self.deliver_after_cancel:
            self._task = None
            self.runningChanged.emit(False)
        self.cancelled.emit()

    def wait(self, timeout_ms: int = 30000) -> bool:
        """Block until every thread of this runner has finished (closing the window)."""
        ok = True
        for thread, _ in list(self._threads.values()):
            ok = thread.wait(timeout_ms) and ok
        return ok

    def shutdown(self, timeout_ms: int = 30000) -> bool:
        """Cancel and wait for the threads (closing the window); late events are then dropped."""
        self.cancel()
        finished = self.wait(timeout_ms)
        if finished and self._task is not None:
            self._task = None
            self.runningChanged.emit(False)
        return finished

    def _current(self, job_id: int) -> bool:
        task = self._task
        return task is not None and task.job_id == job_id

    def _on_yielded(self, job_id: int, event: object) -> None:
        if self._current(job_id) and (self.deliver_after_cancel or not self._task.cancel_flag.is_set()):
            self.event.emit(event)

    def _on_done(self, job_id: int, result: object) -> None:
        if self._current(job_id):
            self._task = None
            self.runningChanged.emit(False)
            self.finished.emit(result)

    def _on_failed(self, job_id: int, message: str) -> None:
        if self._current(job_id):
            self._task = None
            self.runningChanged.emit(False)
            self.failed.emit(message)

    def _reap(self, job_id: int) -> None:
        """After `finished` (queued to the GUI thread): free the job's objects here, in the GUI thread."""
        thread, task = self._threads.pop(job_id, (None, None))
        if thread is not None:
            # `finished` is emitted before the thread has quite ended: its last act processes
            # deferred deletions, which would destroy the task over there (see the deadlock in
            # collect_garbage_in_gui_thread). Waiting for the end first keeps it here.
            thread.wait()
            task.deleteLater()
            thread.deleteLater()


def callback_job(function: Callable[[Callable[[object], None], Cancel], object], poll_s: float = 0.05) -> Job:
    """Adapt a core function that reports through a `progress` callback into a job.

    `function(progress, cancel)` runs in a helper thread; whatever it passes to `progress` is
    yielded (so it reaches the window as events, and Stop is checked between them), and its
    return value becomes the job's result. Used for `evaluate_run`-style engine calls.
    """

    def job(cancel: Cancel):
        import queue

        messages: queue.Queue = queue.Queue()
        outcome: dict = {}

        def target() -> None:
            try:
                outcome["result"] = function(messages.put, cancel)
            except BaseException as error:  # re-raised in the job's own thread below
                outcome["error"] = error

        helper = threading.Thread(target=target, name="partita-callback-job", daemon=True)
        helper.start()
        while helper.is_alive() or not messages.empty():
            try:
                yield messages.get(timeout=poll_s)
            except queue.Empty:
                continue
        if "error" in outcome:
            raise outcome["error"]
        return outcome.get("result")

    return job
