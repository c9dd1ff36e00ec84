"""Evaluation tab: the metrics of each take beside the corpus, as a table and a bar plot.

Until the metrics issue's report (`core.evaluation`) lands, this shows the ten MusPy metrics
of `core.metrics.muspy_metrics` for every take and the corpus mean over its pieces. The work
runs in a worker: music metrics over a corpus take seconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.workers import JobRunner

CORPUS_SAMPLE = 40  # pieces of the corpus measured for its mean (evenly spaced)
COLOURS = ["#e8893a", "#3d7fd9", "#4caf50", "#9c27b0", "#e0393e", "#00bcd4"]


@dataclass(frozen=True)
class MetricsRow:
    """The metrics of one column of the table (a take, or the corpus mean)."""

    name: str
    values: dict  # metric name -> value


def metrics_job(takes: list[tuple[str, object]], corpus_scores: list):
    def job(cancel):
        from core.metrics.muspy_metrics import muspy_metrics

        if corpus_scores:
            step = max(1, len(corpus_scores) // CORPUS_SAMPLE)
            sampled = [muspy_metrics(score) for score in corpus_scores[::step][:CORPUS_SAMPLE]]
            names = sampled[0].keys()
            yield MetricsRow("corpus (mean)", {k: float(np.nanmean([m[k] for m in sampled])) for k in names})
        for name, score in takes:
            if cancel():
                return
            yield MetricsRow(name, muspy_metrics(score))

    return job


class EvaluationPanel(QWidget):
    failed = Signal(str, str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.runner = JobRunner("evaluation", self)
        self.takes_provider = None  # callable () -> [(name, symusic.Score)], set by the window
        self.corpus_scores: list = []
        self.rows: list[MetricsRow] = []
        self.evaluate_button = QPushButton("Evaluate takes", self)
        self.evaluate_button.setToolTip("Measure every take (seed + continuation) and compare with the corpus")
        self.note = QLabel("Generate takes, import a corpus to compare with, then Evaluate.", self)
        self.table = QTableWidget(0, 0, self)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.plot = pg.PlotWidget(self, title="Takes relative to the corpus mean (1 = same)")
        self.plot.showGrid(y=True, alpha=0.2)
        self.plot.addLegend(offset=(-10, 10), labelTextSize="8pt")
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(self.table)
        splitter.addWidget(self.plot)
        splitter.setSizes([420, 600])
        top = QHBoxLayout()
        top.addWidget(self.evaluate_button)
        top.addWidget(self.note, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)
        self.evaluate_button.clicked.connect(self.evaluate)
        self.runner.event.connect(self._on_row)
        self.runner.finished.connect(lambda _r: self.note.setText(f"{len(self.rows)} columns measured."))
        self.runner.failed.connect(lambda m: self.failed.emit(f"Evaluation failed: {m}", "Try again with fewer takes."))
        self.runner.runningChanged.connect(lambda running: self.evaluate_button.setEnabled(not running))

    def set_corpus(self, corpus) -> None:
        self.corpus_scores = [piece.score for piece in corpus.pieces] if corpus is not None else []

    def evaluate(self) -> None:
        takes = self.takes_provider() if self.takes_provider else []
        if not takes:
            self.failed.emit("There is no take to evaluate.", "Generate a take first (Generate panel).")
            return
        self.rows = []
        self.table.clear()
        self.note.setText("Measuring…")
        self.runner.start(metrics_job(takes, list(self.corpus_scores)))

    def _on_row(self, row: MetricsRow) -> None:
        self.rows.append(row)
        metrics = list(self.rows[0].values)
        self.table.setRowCount(len(metrics))
        self.table.setColumnCount(len(self.rows))
        self.table.setHorizontalHeaderLabels([r.name for r in self.rows])
        self.table.setVerticalHeaderLabels([m.replace("_", " ") for m in metrics])
        for column, r in enumerate(self.rows):
            for index, metric in enumerate(metrics):
                value = r.values.get(metric, float("nan"))
                item = QTableWidgetItem("—" if math.isnan(value) else f"{value:.3f}")
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(index, column, item)
        self.table.resizeColumnsToContents()
        self._plot(metrics)

    def _plot(self, metrics: list[str]) -> None:
        self.plot.clear()
        reference = self.rows[0].values if self.rows[0].name.startswith("corpus") else None
        takes = self.rows[1:] if reference else self.rows
        width = 0.8 / max(1, len(takes))
        for i, row in enumerate(takes):
            values = []
            for metric in metrics:
                value, base = row.values.get(metric, float("nan")), (reference or {}).get(metric, 1.0)
                values.append(value / base if reference and base and not math.isnan(base) else value)
            x = np.arange(len(metrics)) + (i - (len(takes) - 1) / 2) * width
            bars = pg.BarGraphItem(x=x, height=np.nan_to_num(values), width=width * 0.9,
                                   brush=COLOURS[i % len(COLOURS)], name=row.name)
            self.plot.addItem(bars)
            self.plot.plotItem.legend.addItem(bars, row.name)
        axis = self.plot.getAxis("bottom")
        axis.setTicks([[(i, m.replace("_", " ").replace("pitch ", "p. ")) for i, m in enumerate(metrics)]])
