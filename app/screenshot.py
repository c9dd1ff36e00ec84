"""`python -m app.screenshot OUT.png`: open the window, load a corpus, a seed and a take, save a picture.

For the README and for checking the look by eye; run it under Xvfb on a machine without a
display: ``xvfb-run -a -s "-screen 0 1366x768x24" .venv/bin/python -m app.screenshot docs/screenshot-main.png``
(1366 x 768: the smallest common laptop screen, where every panel must still be usable).
It uses a throw-away settings file and state folder, so the user's session is never touched.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def _wait(app, signal, timeout_ms: int) -> list:
    """Run the event loop until `signal` fires (or time runs out); returns its arguments."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    received: list = []
    signal.connect(lambda *args: (received.extend(args), loop.quit()))
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()
    return received


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--corpus", default=str(SHARED / "mutopia-bach-midi" / "cello-suites"))
    parser.add_argument("--seed-file", default=str(SHARED / "mutopia-bach-midi" / "cello-suites" / "BWV1007_01_Prelude.mid"))
    parser.add_argument("--seed-bars", type=int, default=4)
    parser.add_argument("--run", default="", help="run folder of the model ('' = shipped default)")
    parser.add_argument("--bars", type=int, default=6)
    parser.add_argument("--tab", default="Training", choices=["Corpus", "Training", "Evaluation", "Live"])
    parser.add_argument("--size", default="1366x768")
    args = parser.parse_args(argv)

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from app.compat import protect_singletons
    from app.mainwindow import MainWindow

    protect_singletons()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    state = Path(tempfile.mkdtemp(prefix="partita-shot-"))
    window = MainWindow(QSettings(str(state / "settings.ini"), QSettings.Format.IniFormat), state / "state",
                        restore_session=False)
    width, height = (int(v) for v in args.size.split("x"))
    window.resize(width, height)
    window.show()
    corpus = window.corpus_panel
    corpus.import_source(args.corpus)
    _wait(app, corpus.runner.finished, 120000)
    window.open_file(args.seed_file)
    _wait(app, window.seed_loader.finished, 60000)
    meter = window.model.meter
    seed = [n for n in window.model.seed_notes() if n.start < args.seed_bars * meter.bar_length]
    window.model.set_seed(seed)
    generation = window.generation_panel
    if args.run:
        generation.add_run(args.run, select=True)
        window.training_panel.load_run_curves(Path(args.run))
        window.training_panel.data_edit.setText(args.corpus)
        window.training_panel.out_edit.setText(args.run)
    generation.bars.setValue(args.bars)
    generation.random_seed.setValue(1)
    generation.generate()
    _wait(app, generation.runner.finished, 120000)
    window.roll.view.zoom_to_fit()  # its length and its pitches
    take = window.model.take_notes(window.model.current_take)
    if take:
        window.set_playhead(min(n.start for n in take))
    if args.tab == "Evaluation":
        window.evaluation_panel.judge_takes()
        _wait(app, window.evaluation_panel.runner.finished, 300000)
    window.bottom_tabs.setCurrentIndex(["Corpus", "Training", "Evaluation", "Live"].index(args.tab))
    from PySide6.QtCore import QEventLoop, QTimer

    settle = QEventLoop()  # the roll's counts and the layouts follow within a few hundred ms
    QTimer.singleShot(400, settle.quit)
    settle.exec()
    window.training_panel.curves.refresh()
    app.processEvents()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    ok = window.grab().save(str(args.out))
    window.close()
    print(f"{'saved' if ok else 'could not save'} {args.out}: {len(seed)} seed notes, {len(take)} generated")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
