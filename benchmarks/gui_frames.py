"""GUI frame times: piano-roll paint time with 20,000 notes, and the longest stall of the event
loop while import, training and generation run in their workers. Prints markdown tables.

1. Paint: the piano roll's viewport rendered into an image at 40 scroll positions across the
   piece, per zoom level (the grid cache, the notes, the playhead): median and worst ms.
2. Streaming: notes added one at a time to 16 takes beside a 5,000-note seed, as generation
   adds them, each followed by a repaint: ms per note (the model, the roll's index, the paint).
3. Stalls: a 5 ms QTimer runs while the real window imports the cello suites, trains `tiny`
   and generates; the longest gap between its ticks (and the 99th percentile) is the longest
   time the window could not react.
Targets from the desktop-app issue: < 16 ms per frame (60 fps), < 50 ms stall.

    .venv/bin/python benchmarks/gui_frames.py [--skip-jobs]     # offscreen Qt unless set otherwise
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import machine, table  # noqa: E402
from PySide6.QtCore import QElapsedTimer, QPointF, QTimer  # noqa: E402
from PySide6.QtGui import QImage, QUndoStack  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from app.pianoroll.model import GENERATED, Note, NoteModel  # noqa: E402
from app.pianoroll.widget import PianoRoll  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def paint_frames(roll: PianoRoll, positions: list[float]) -> list[float]:
    """Milliseconds to repaint the viewport at each scroll position (grid cache + notes + playhead)."""
    view = roll.view
    viewport = view.viewport()
    image = QImage(viewport.size(), QImage.Format.Format_ARGB32_Premultiplied)
    times = []
    for x in positions:
        view.centerOn(QPointF(x, 127 - 60))
        QApplication.processEvents()
        start = time.perf_counter()
        viewport.render(image)
        times.append((time.perf_counter() - start) * 1000)
    return times


def bench_paint(count: int = 20000) -> None:
    rng = random.Random(0)
    model = NoteModel()
    notes, tick = [], 0
    while len(notes) < count:  # a dense cello-like line with some chords: 4 notes per beat
        for _ in range(rng.choice((1, 1, 1, 2, 3))):
            notes.append(Note(tick, rng.randint(36, 84), rng.choice((120, 240, 480)), 80,
                              GENERATED if len(notes) > count // 2 else "seed", 0))
        tick += 120
    model.set_seed([n for n in notes if n.role == "seed"])
    model.new_take()
    model.add_notes([n for n in notes if n.role == GENERATED])
    roll = PianoRoll(model, QUndoStack())
    roll.resize(1400, 700)
    roll.show()
    QApplication.processEvents()
    end = model.end_tick()
    rows = []
    for label, ppq in (("normal zoom (48 px/quarter)", 48.0), ("zoomed in (200 px/quarter)", 200.0),
                       ("zoomed out (4 px/quarter)", 4.0), ("whole piece in view", 1300 / (end / 480))):
        roll.view.set_zoom(ppq, 14)
        times = paint_frames(roll, [end * i / 40 for i in range(40)])
        rows.append([label, f"{statistics.median(times):.2f}", f"{max(times):.2f}"])
    print(f"### Piano-roll paint time ({len(model)} notes, viewport {roll.view.viewport().width()} x "
          f"{roll.view.viewport().height()}, target < 16 ms)\n")
    print(table(["view", "median ms", "worst ms"], rows))


class StallMeter:
    """A 5 ms timer; the longest gap between its ticks is the longest event-loop stall."""

    def __init__(self):
        self.clock = QElapsedTimer()
        self.gaps: list[float] = []
        self.timer = QTimer()
        self.timer.setInterval(5)
        self.timer.timeout.connect(self._tick)
        self.last = None

    def start(self) -> None:
        self.clock.start()
        self.last = self.clock.nsecsElapsed()
        self.timer.start()

    def _tick(self) -> None:
        now = self.clock.nsecsElapsed()
        self.gaps.append((now - self.last) / 1e6)
        self.last = now

    def stop(self) -> tuple[float, float]:
        self.timer.stop()
        gaps = sorted(self.gaps) or [0.0]
        return gaps[-1], gaps[int(len(gaps) * 0.99) - 1 if len(gaps) > 1 else 0]


def run_until(signal, timeout_s: float) -> None:
    from PySide6.QtCore import QEventLoop

    loop = QEventLoop()
    signal.connect(loop.quit)
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    loop.exec()


def bench_jobs() -> None:
    from PySide6.QtCore import QSettings

    from app.mainwindow import MainWindow
    from core.learning.run_config import TrainConfig

    data = SHARED / "mutopia-bach-midi" / "cello-suites"
    if not data.exists():
        print(f"\n(stall benchmark skipped: {data} not found)")
        return
    import torch._dynamo  # noqa: F401  (the app warms this up in the background after launch: app.main)

    folder = Path(tempfile.mkdtemp(prefix="partita-bench-"))
    window = MainWindow(QSettings(str(folder / "s.ini"), QSettings.Format.IniFormat), folder / "state",
                        restore_session=False)
    window.resize(1400, 900)
    window.show()
    rows = []
    meter = StallMeter()
    meter.start()
    window.corpus_panel.import_source(str(data))
    run_until(window.corpus_panel.runner.finished, 120)
    rows.append(("import the cello-suite MIDI folder (41 files)", *meter.stop()))
    config = TrainConfig(data=str(data), out=str(folder / "run"), preset="tiny", steps=60, batch_size=8,
                         eval_every=30, eval_windows=16)
    meter = StallMeter()
    meter.start()
    window.training_panel.start(config=config)
    run_until(window.training_panel.runner.finished, 600)
    rows.append(("train tiny, 60 steps + 2 evals", *meter.stop()))
    window.generation_panel.add_run(str(folder / "run"), select=True)
    window.generation_panel.bars.setValue(16)
    window.generation_panel.variations.setValue(2)
    meter = StallMeter()
    meter.start()
    window.generation_panel.generate()
    run_until(window.generation_panel.runner.finished, 600)
    rows.append((f"generate 2x16 bars ({len(window.model.take_notes(0))} notes/take)", *meter.stop()))
    print("\n### Longest event-loop stall while a job runs in its worker (target < 50 ms)\n")
    print(table(["job", "longest ms", "p99 ms"], [[label, f"{worst:.1f}", f"{p99:.1f}"] for label, worst, p99 in rows]))
    window.close()


def bench_streaming(seed_notes: int = 5000, takes: int = 16, streamed: int = 400) -> None:
    model = NoteModel()
    model.set_seed([Note(i * 120, 40 + i % 30, 120) for i in range(seed_notes)])
    ids = [model.new_take() for _ in range(takes)]
    roll = PianoRoll(model, QUndoStack())
    roll.resize(1400, 700)
    roll.show()
    QApplication.processEvents()
    times = []
    for i in range(streamed):
        start = time.perf_counter()
        model.add_notes([Note(seed_notes * 120 + i * 120, 52, 120, role=GENERATED, take=ids[i % takes])])
        QApplication.processEvents()  # the repaint it causes
        times.append(1000 * (time.perf_counter() - start))
    print(f"### Streaming a take ({streamed} notes into {takes} takes beside a {seed_notes:,}-note seed)\n")
    print(table(["per streamed note", "median ms", "worst ms"],
                [["add + repaint", f"{statistics.median(times):.2f}", f"{max(times):.2f}"]]))
    roll.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-jobs", action="store_true")
    args = parser.parse_args()
    from app.compat import protect_singletons

    protect_singletons()
    QApplication.instance() or QApplication(sys.argv[:1])
    print(f"## GUI frame times\n\nMachine: {machine()}, Qt platform `{os.environ['QT_QPA_PLATFORM']}`, load "
          f"average {os.getloadavg()[0]:.1f} at the start.\n")
    bench_paint()
    bench_streaming()
    if not args.skip_jobs:
        bench_jobs()
    return 0


if __name__ == "__main__":
    sys.exit(main())
