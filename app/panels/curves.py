"""Live training curves: pyqtgraph plots fed from a buffer on a 15 Hz timer.

Following pyqtgraph's scrollingPlots example, every curve is created once and only `setData`
is called, from a timer, with the buffered points; events can arrive a thousand times a second
and the plots still redraw at most 15 times a second. `add_record` takes the same dicts that
`metrics.jsonl` holds, so an earlier run's curves reload through the same path.

A plot whose points all stand at one step (the first validation pass) or at one value would get
pyqtgraph's automatic range of one unit around them: steps 199.5-200.5, a learning rate of 0.001
on an axis from -0.5 to 0.5. Such a plot shows steps from 0 and its values ±10 %, until the
points spread (`sensible_range`).
"""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QVBoxLayout, QWidget

REFRESH_MS = 66  # ~15 Hz
# Token types' colours: none of the overall curves' (validation orange, accuracy green, train blue)
TYPE_COLOURS = ["#c678dd", "#56b6c2", "#e5c07b", "#ef596f", "#d8d8d8", "#ff79c6", "#8be9fd", "#b8860b"]


class CurveBuffer:
    """Points per named series, with a dirty set so only changed curves are redrawn."""

    def __init__(self):
        self.points: dict[str, tuple[list[float], list[float]]] = {}
        self.dirty: set[str] = set()

    def add(self, name: str, x: float, y: float) -> None:
        xs, ys = self.points.setdefault(name, ([], []))
        xs.append(x)
        ys.append(y)
        self.dirty.add(name)

    def clear(self) -> None:
        self.points.clear()
        self.dirty.clear()

    def count(self, name: str) -> int:
        return len(self.points.get(name, ((), ()))[0])


class TrainingCurves(QWidget):
    """Four plots: loss (train + validation), accuracy, perplexity, learning rate."""

    def __init__(self, parent=None):
        super().__init__(parent)
        pg.setConfigOptions(antialias=True, background="#1f2024", foreground="#c8c8c8")
        self.buffer = CurveBuffer()
        self.per_type = False
        self.layout_widget = pg.GraphicsLayoutWidget(self)
        self.plots = {}
        for row, col, key, title, log_y in ((0, 0, "loss", "Loss (nats/token)", False),
                                           (0, 1, "accuracy", "Validation accuracy", False),
                                           (1, 0, "perplexity", "Validation perplexity", False),
                                           (1, 1, "lr", "Learning rate", False)):
            plot = self.layout_widget.addPlot(row=row, col=col, title=title)
            plot.showGrid(x=True, y=True, alpha=0.2)
            plot.setLabel("bottom", "step")
            plot.setLogMode(y=log_y)
            plot.setClipToView(True)
            plot.setDownsampling(auto=True, mode="peak")
            if key in ("loss", "accuracy"):
                legend = plot.addLegend(offset=(-4, 4), labelTextSize="8pt", verSpacing=-6)
                legend.setBrush(pg.mkBrush(31, 32, 36, 200))
            self.plots[key] = plot
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.curve_plot: dict[str, str] = {}  # curve name -> the plot it is drawn on
        self.pinned: dict[str, set[str]] = {}  # plot -> axes ("x", "y") given a range by `sensible_range`
        self._make("train_loss", "loss", "train", "#7aa6e8", width=1)
        self._make("val_loss", "loss", "validation", "#e8893a", width=2, symbol="o")
        self._make("val_accuracy", "accuracy", "all tokens", "#4caf50", width=2, symbol="o")
        self._make("val_perplexity", "perplexity", None, "#e0393e", width=2, symbol="o")
        self._make("lr", "lr", None, "#bbbbbb", width=1)
        self.baseline: pg.InfiniteLine | None = None  # the n-gram's validation loss, as a level line
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.layout_widget)
        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.refresh)  # runs only while points arrive (see add_record)

    def _make(self, name: str, plot: str, label: str | None, colour: str, width: int = 1,
              symbol: str | None = None, dashed: bool = False) -> pg.PlotDataItem:
        pen = pg.mkPen(colour, width=width, style=pg.QtCore.Qt.PenStyle.DashLine if dashed else pg.QtCore.Qt.PenStyle.SolidLine)
        curve = self.plots[plot].plot([], [], pen=pen, name=label, symbol=symbol, symbolSize=5,
                                      symbolBrush=colour, symbolPen=None)
        self.curves[name] = curve
        self.curve_plot[name] = plot
        return curve

    def set_baseline(self, loss: float | None, label: str = "4-gram") -> None:
        """Draw a baseline's validation loss per token (the same windows as the validation curve's)
        as a dashed level on the loss plot; None removes it."""
        plot = self.plots["loss"]
        if self.baseline is not None:
            plot.removeItem(self.baseline)
            self.baseline = None
        if loss is not None and math.isfinite(loss):
            pen = pg.mkPen("#e8893a", width=1, style=pg.QtCore.Qt.PenStyle.DashLine)
            self.baseline = pg.InfiniteLine(pos=loss, angle=0, pen=pen, label=label,
                                            labelOpts={"position": 0.92, "color": "#e8893a"})
            plot.addItem(self.baseline)

    def clear(self) -> None:
        self.set_baseline(None)
        self.buffer.clear()
        for name, curve in list(self.curves.items()):
            if name.startswith("type:"):
                for plot in self.plots.values():
                    plot.removeItem(curve)
                del self.curves[name]
                del self.curve_plot[name]
            else:
                curve.setData([], [])
        for key, axes in self.pinned.items():  # an earlier run's one-point ranges go with its points
            if axes:
                self.plots[key].enableAutoRange(**{axis: True for axis in axes})
        self.pinned.clear()

    def set_per_type(self, on: bool) -> None:
        """Show or hide the per-token-type curves (and their legend entries)."""
        self.per_type = on
        if on:
            self._make_type_curves()
        for name, curve in self.curves.items():
            if name.startswith("type:"):
                self._show_type_curve(name, curve, on)
        self.refresh()
        for key in self.plots:  # the points shown changed: so may the range they need
            self.sensible_range(key)

    def _make_type_curves(self) -> None:
        for name in sorted(self.buffer.points):
            if name.startswith("type:") and name not in self.curves:
                metric = name.split(":")[1]
                colour = TYPE_COLOURS[len([c for c in self.curves if c.startswith(f"type:{metric}:")])
                                      % len(TYPE_COLOURS)]
                curve = self._make(name, metric, None, colour, width=1, dashed=True)
                self._show_type_curve(name, curve, self.per_type)
                self.buffer.dirty.add(name)

    def _show_type_curve(self, name: str, curve: pg.PlotDataItem, on: bool) -> None:
        _, metric, token_type = name.split(":", 2)
        legend = self.plots[metric].legend
        curve.setVisible(on)
        legend.removeItem(curve)
        if on:
            legend.addItem(curve, token_type)
        # with the token types the legend grows: in columns it stays shorter than the plot
        legend.setColumnCount(3 if on and len(legend.items) > 4 else 1)

    def add_record(self, record: dict) -> None:
        """One event as a dict (`metrics.jsonl` line or `asdict(event)` with "event" set)."""
        kind = record.get("event")
        step = record.get("step")
        if step is None:
            return
        if not self.timer.isActive():
            self.timer.start()
        if kind == "TrainStep":
            self.buffer.add("train_loss", step, record["loss"])
            self.buffer.add("lr", step, record["learning_rate"])
        elif kind == "EvalResult":
            self.buffer.add("val_loss", step, record["loss"])
            self.buffer.add("val_accuracy", step, record["accuracy"])
            self.buffer.add("val_perplexity", step, record["perplexity"])
            for token_type, figures in sorted(record.get("per_type", {}).items()):
                for metric in ("loss", "accuracy"):
                    # buffered always; plotted (curves created) only once asked for: making a
                    # pyqtgraph curve costs ~30 ms of the GUI thread, times 2 per token type
                    self.buffer.add(f"type:{metric}:{token_type}", step, figures[metric])
            if self.per_type:
                self._make_type_curves()

    def refresh(self) -> None:
        """Push buffered points to their curves (the timer calls this at ~15 Hz while points
        arrive, and stops itself once they have stopped: an idle window does not wake up)."""
        if not self.buffer.dirty:
            self.timer.stop()
            return
        changed = set()
        for name in self.buffer.dirty:
            if name in self.curves:
                xs, ys = self.buffer.points[name]
                self.curves[name].setData(xs, ys)
                changed.add(self.curve_plot[name])
        self.buffer.dirty.clear()
        for key in changed:
            self.sensible_range(key)

    def sensible_range(self, key: str) -> None:
        """Give a plot whose shown points stand at one step steps from 0, and one whose points have
        one value that value ±10 % (0: ±1); hand each axis back to pyqtgraph's automatic range
        once its points spread."""
        shown = [(x, y) for name, curve in self.curves.items()
                 if self.curve_plot[name] == key and curve.isVisible() and name in self.buffer.points
                 for x, y in zip(*self.buffer.points[name], strict=True) if math.isfinite(x) and math.isfinite(y)]
        if not shown:
            return
        xs, ys = [x for x, _ in shown], [y for _, y in shown]
        plot, pinned = self.plots[key], self.pinned.setdefault(key, set())
        if min(xs) == max(xs):
            plot.setXRange(0, max(xs) * 1.1 if max(xs) > 0 else 1, padding=0)
            pinned.add("x")
        elif "x" in pinned:
            plot.enableAutoRange(x=True)
            pinned.discard("x")
        if min(ys) == max(ys):
            pad = abs(ys[0]) * 0.1 or 1.0
            plot.setYRange(ys[0] - pad, ys[0] + pad, padding=0)
            pinned.add("y")
        elif "y" in pinned:
            plot.enableAutoRange(y=True)
            pinned.discard("y")
