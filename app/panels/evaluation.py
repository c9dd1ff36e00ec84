"""Evaluation tab: the metrics issue's report (`core.judging.report`) as a table and its plots.

Two ways in, both in a worker:
* "Judge takes": the continuations of the roll's takes are measured against the imported
  corpus with `core.judging.report.data.compare_sets_to_training` (random-note versions of the same
  takes give the floor), in a second or two;
* "Full model report": `core.judging.evaluation.evaluate_run` on the chosen model and corpus
  (held-out learning figures, n-gram baseline, shuffled references), as `partita evaluate` does.
The report's headline rows fill the table; `core.judging.report.figures` renders the pictures.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.panels.figure_words import figure_words
from app.workers import JobRunner, callback_job

ARROWS = {"low": "↓ lower is better", "high": "↑ higher is better", "near real": "≈ closer to real is better"}


@dataclass(frozen=True)
class ReportReady:
    """A finished report and its pictures (PNG bytes by title)."""

    report: object  # core.judging.report.data.Report: plain dataclasses
    figures: tuple[tuple[str, bytes], ...]
    # (take name, bar of the take where its judged continuation begins): a copied passage's bars
    # are counted in the continuation; the musician counts them in the take
    first_bars: tuple[tuple[str, int], ...] = ()


def _figures(report) -> tuple[tuple[str, bytes], ...]:
    from core.judging.report.figures import report_figures

    return report_figures(report)


def judge_takes_job(takes: list[tuple[str, object, int]], training: list[tuple[str, object]]):
    """Measure the takes' continuations against the corpus (`core.judging.evaluation.judge_takes`)."""

    def work(progress, cancel):
        from core.judging.evaluation import judge_takes

        report, first_bars = judge_takes(takes, training, progress=progress, cancel=cancel)
        progress("drawing the figures")
        return ReportReady(report, _figures(report), first_bars)

    return callback_job(work)


def describe_copy(copy: dict, first_bar: int = 1, files: dict[str, str] | None = None) -> str:
    """A copied passage (`SetResult.longest_copy`) in words: the take or piece and its bars (counted
    from `first_bar`, where its judged part begins), the corpus piece, its bars and its file."""
    start, end = (bar + first_bar - 1 for bar in copy["generated_bars"])
    source_start, source_end = copy["source_bars"]
    shift = f", transposed {copy['transposition']:+d} semitones" if copy.get("transposition") else ""
    bars = f"bar {start}" if start == end else f"bars {start}-{end}"
    text = (f"{copy['piece']}, {bars}: {copy['notes']} notes follow {copy['source']} bars "
            f"{source_start}-{source_end} note for note{shift}")
    path = (files or {}).get(copy["source"])
    return f"{text} (file: {path})" if path else text


def model_report_job(run_dir: str, data: str):
    """`partita evaluate` in the window: a small but complete report of a model on its corpus."""

    def work(progress, cancel):
        from core.judging.evaluation import EvaluationSettings, evaluate_run

        settings = EvaluationSettings(generate=4, sweep=(0.75, 1.0, 1.25), sweep_variations=2, use_music21=False,
                                      max_eval_windows=64)
        report = evaluate_run(run_dir or None, data, settings=settings, progress=progress, cancel=cancel)
        progress("drawing the figures")
        return ReportReady(report, _figures(report))

    return callback_job(work)


HINT = "Import a corpus and generate takes, then Judge takes."  # what the panel says before a report


class EvaluationPanel(QWidget):
    failed = Signal(str, str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.runner = JobRunner("evaluation", self)
        self.takes_provider = None  # () -> [(name, seed+take score, seed_end_tick)], set by the window
        self.model_provider = None  # () -> run folder ("" = shipped default)
        self.corpus = None
        self.corpus_source = ""
        self.report = None
        self.judge_button = QPushButton("Judge takes", self)
        self.judge_button.setToolTip("Measure the takes' continuations against the imported corpus: style "
                                     "distances, scale and rhythm figures, copies of the corpus")
        self.full_button = QPushButton("Full model report", self)
        self.full_button.setToolTip("Evaluate the chosen model on the corpus as `partita evaluate` does: held-out "
                                    "cross-entropy against an n-gram baseline, generated pieces against real ones "
                                    "and shuffled references (one to several minutes: longer for large corpora)")
        self.stop_button = QPushButton("Stop", self)
        self.stop_button.setEnabled(False)
        self.progress = QLabel(HINT, self)
        self.warnings = QLabel(self)
        self.warnings.setWordWrap(True)
        self.warnings.setStyleSheet("color: #b03a2e;")
        self.copies = QLabel(self)  # the longest copied passage and the flagged pieces, named
        self.copies.setWordWrap(True)
        self.copies.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.copies.setVisible(False)
        self.table = QTableWidget(0, 0, self)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.figures = QWidget(self)
        self.figures_layout = QVBoxLayout(self.figures)
        self.figures_layout.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.figures)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        left = QWidget(self)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.warnings)
        left_layout.addWidget(self.table, 1)
        left_layout.addWidget(self.copies)
        splitter.addWidget(left)
        splitter.addWidget(scroll)
        splitter.setSizes([560, 600])
        top = QHBoxLayout()
        for widget in (self.judge_button, self.full_button, self.stop_button):
            top.addWidget(widget)
        top.addWidget(self.progress, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)
        self.judge_button.clicked.connect(self.judge_takes)
        self.full_button.clicked.connect(self.model_report)
        self.stop_button.clicked.connect(self.runner.cancel)
        self.runner.event.connect(self._on_event)
        self.runner.finished.connect(self._on_finished)
        self.runner.failed.connect(lambda m: self.failed.emit(f"Evaluation failed: {m}",
                                                              "Check the corpus and the model, then try again."))
        self.runner.cancelled.connect(lambda: self.progress.setText("Stopped."))
        self.runner.runningChanged.connect(self._running_changed)

    def set_corpus(self, corpus, source: str = "") -> None:
        self.corpus = corpus
        self.corpus_source = source

    def judge_takes(self) -> None:
        takes = self.takes_provider() if self.takes_provider else []
        if not takes:
            self.failed.emit("There is no take to judge.", "Generate a take first (Generate panel).")
            return
        if self.corpus is None or not self.corpus.pieces:
            self.failed.emit("There is no corpus to compare the takes with.",
                             "Import the corpus the model learned from in the Corpus tab.")
            return
        training = [(piece.name, piece.score) for piece in self.corpus.pieces]
        self.progress.setText("Measuring…")
        self.runner.start(judge_takes_job(takes, training))

    def model_report(self) -> None:
        if not self.corpus_source:
            self.failed.emit("The full report needs the corpus the model learned from.",
                             "Import it in the Corpus tab (a folder or a built-in corpus).")
            return
        run_dir = self.model_provider() if self.model_provider else ""
        self.progress.setText("Evaluating the model…")
        self.runner.start(model_report_job(run_dir, self.corpus_source))

    def clear_report(self) -> None:
        """Show no report (a new project: the old one was about notes that are gone)."""
        self.report = None
        self.progress.setText(HINT)
        self.warnings.clear()
        self.warnings.setVisible(False)
        self.copies.clear()
        self.copies.setVisible(False)
        self.table.clear()
        self.table.setRowCount(0)
        self.table.setColumnCount(0)
        self._clear_figures()

    def _clear_figures(self) -> None:
        while self.figures_layout.count() > 1:
            widget = self.figures_layout.takeAt(0).widget()
            if widget is not None:
                widget.deleteLater()

    def _running_changed(self, running: bool) -> None:
        self.judge_button.setEnabled(not running)
        self.full_button.setEnabled(not running)
        self.stop_button.setEnabled(running)

    def _on_event(self, message) -> None:
        self.progress.setText(str(message)[:200])

    def _on_finished(self, ready: ReportReady | None) -> None:
        if ready is None:
            return
        self.show_report(ready)

    def show_report(self, ready: ReportReady) -> None:
        report = self.report = ready.report
        self.progress.setText(report.title)
        self.warnings.setText("\n".join(report.warnings))
        self.warnings.setVisible(bool(report.warnings))
        rows = report.headline()
        columns: list[str] = []
        for row in rows:
            columns += [name for name in row["values"] if name not in columns]
        self.table.clear()
        self.table.setRowCount(len(rows))
        self.table.setColumnCount(len(columns))
        self.table.setHorizontalHeaderLabels(columns)
        # each row says in plain words what it measures, and which way is better (↓, ↑, ≈) after
        # its label; the tooltip says both in sentences
        words = [figure_words(row.get("key", ""), row["label"]) for row in rows]
        self.table.setVerticalHeaderLabels([f"{label}  {ARROWS[row['better']][0]}"
                                            for (label, _), row in zip(words, rows, strict=True)])
        copy_text = self._show_copies(ready)
        for r, row in enumerate(rows):
            described = "\n".join(part for part in (words[r][1], ARROWS[row["better"]]) if part)
            self.table.verticalHeaderItem(r).setToolTip(_tip(described))
            numbers = [v for v in row["values"].values() if isinstance(v, int | float) and math.isfinite(v)]
            counts = bool(numbers) and all(float(v).is_integer() for v in numbers)  # "15", not "15.000"
            for c, column in enumerate(columns):
                value = row["values"].get(column)
                if value is None or (isinstance(value, float) and math.isnan(value)):
                    text = "–"
                else:
                    text = f"{value:.0f}" if counts else f"{value:.3f}"
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if column == "generated":
                    item.setBackground(QColor(232, 137, 58, 40))
                copied = copy_text.get(column) if row.get("key") == "originality.longest_run_notes" else None
                item.setToolTip(_tip(f"{copied}\n\n{described}" if copied else described))
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()
        self._clear_figures()
        for index, (title, png) in enumerate(ready.figures):
            pixmap = QPixmap()
            pixmap.loadFromData(png, "PNG")
            label = FigureLabel(pixmap, self.figures)
            label.setToolTip(title)
            caption = QLabel(f"<b>{title}</b>", self.figures)
            self.figures_layout.insertWidget(2 * index, caption)
            self.figures_layout.insertWidget(2 * index + 1, label)


    def _show_copies(self, ready: ReportReady) -> dict[str, str]:
        """Name the longest copied passage of the takes (or generated pieces) and every piece of
        theirs flagged as a copy under the table; returns the longest copy of each set in words."""
        from core.judging.report.data import GENERATED

        report = ready.report
        files = {piece.name: str(piece.path) for piece in self.corpus.pieces} if self.corpus is not None else {}
        first_bars = dict(ready.first_bars)
        described = {}
        for name, result in report.sets.items():
            copy = getattr(result, "longest_copy", None)
            if copy:
                described[name] = describe_copy(copy, first_bars.get(copy["piece"], 1) if name == GENERATED else 1,
                                                files)
        lines = []
        if GENERATED in described:
            lines.append(f"Longest passage copied from the corpus: {described[GENERATED]}.")
        flagged = [c for c in report.copies if c.set == GENERATED]
        if flagged:
            lines.append(f"Flagged as copies: {', '.join(c.piece for c in flagged)}.")
        self.copies.setText("\n".join(lines))
        self.copies.setVisible(bool(lines))
        return described


def _tip(text: str) -> str:
    """A tooltip as rich text, which Qt wraps (a plain one is a single line across the screen)."""
    return "<p>" + html.escape(text).replace("\n", "<br>") + "</p>"


class FigureLabel(QLabel):
    """A report figure scaled to the panel's width (never above its own size): drawn for a page,
    it was four times wider than the dock, which showed a quarter of it."""

    def __init__(self, pixmap: QPixmap, parent=None):
        super().__init__(parent)
        self.original = pixmap
        self.setMinimumWidth(120)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setPixmap(pixmap)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        width = min(width, self.original.width())
        return round(width * self.original.height() / max(1, self.original.width()))

    def resizeEvent(self, event) -> None:
        width = min(self.width(), self.original.width())
        if width > 0 and (self.pixmap().isNull() or self.pixmap().width() != width):
            self.setPixmap(self.original.scaledToWidth(width, Qt.TransformationMode.SmoothTransformation))
        super().resizeEvent(event)
