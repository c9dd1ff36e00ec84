"""The report's pictures: matplotlib figures rendered to PNG bytes (Agg, no display needed)."""

from __future__ import annotations

import io
import math

import numpy as np

from core.judging.metrics.transitions import DURATION_LABELS, MATRICES, MAX_INTERVAL
from core.judging.report.data import BASELINE, GENERATED, HELD_OUT, Report

COLOURS = {"training": "#444444", GENERATED: "#d62728", HELD_OUT: "#1f77b4", BASELINE: "#ff7f0e",
           "pitch-shuffled": "#9467bd", "rhythm-shuffled": "#8c564b", "random notes": "#7f7f7f"}
DEGREE_LABELS = ["1", "b2", "2", "b3", "3", "4", "#4", "5", "b6", "6", "b7", "7"]
OVERLAID = ("training", GENERATED, HELD_OUT, BASELINE)


def _subplots(*grid, figsize, **options):
    """A new figure and its axes through matplotlib's object API, never pyplot: pyplot keeps global
    state and a backend, and the app draws reports in a worker thread beside Qt's own."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=figsize)
    return figure, figure.subplots(*grid, **options)


def _png(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")  # Agg, no display needed
    return buffer.getvalue()


def histograms_figure(report: Report) -> bytes:
    """Scale degrees, note values and metric positions of each set, overlaid."""
    figure, axes = _subplots(1, 3, figsize=(15, 3.6))
    panels = (("pitch_class_histogram", "Scale degree (from the tonic)", DEGREE_LABELS),
              ("duration_histogram", "Note value", DURATION_LABELS),
              ("metric_position_histogram", "Onset position in the bar (16th/triplet steps)", None))
    for ax, (name, title, labels) in zip(axes, panels, strict=True):
        for set_name in OVERLAID:
            shares = report.histograms.get(set_name, {}).get(name)
            if shares is None:
                continue
            shares = np.array(shares)
            if name == "metric_position_histogram":
                shares = shares[:48]
            ax.step(np.arange(len(shares)), shares, where="mid", label=set_name, color=COLOURS.get(set_name),
                    linewidth=2 if set_name in (GENERATED, "training") else 1.2)
        ax.set_title(title)
        if labels:
            ax.set_xticks(range(len(labels)), labels, rotation=45 if len(labels) > 12 else 0, fontsize=8)
        ax.set_ylabel("share")
    axes[0].legend(fontsize=8)
    return _png(figure)


def piece_metrics_figure(report: Report, metrics=("scale_consistency", "pitch_class_entropy",
                                                  "quantized_groove_consistency", "duration_entropy")) -> bytes:
    """Per-piece values of a few metrics, one overlaid histogram per set (shuffled sets left out)."""
    figure, axes = _subplots(1, len(metrics), figsize=(4 * len(metrics), 3.2))
    for ax, metric in zip(np.atleast_1d(axes), metrics, strict=True):
        pooled = [v for s in report.piece_values.values() for v in s.get(metric, []) if not math.isnan(v)]
        if not pooled:
            continue
        bins = np.linspace(min(pooled), max(pooled) + 1e-9, 16)
        for set_name in (HELD_OUT, GENERATED, BASELINE, "random notes"):  # the shuffles would hide the rest
            data = [v for v in report.piece_values.get(set_name, {}).get(metric, []) if not math.isnan(v)]
            if data:
                ax.hist(data, bins=bins, alpha=0.45, label=set_name, color=COLOURS.get(set_name))
        ax.set_title(metric.replace("_", " "))
    np.atleast_1d(axes)[0].legend(fontsize=7)
    return _png(figure)


def matrices_figure(report: Report, name: str) -> bytes:
    """One transition matrix per set, side by side; colour is the share of all transitions (square-root scale)."""
    from matplotlib.colors import PowerNorm

    shown = [s for s in ("training", HELD_OUT, GENERATED, BASELINE) if name in report.matrices.get(s, {})]
    figure, axes = _subplots(1, len(shown), figsize=(4 * len(shown), 4), squeeze=False)
    for ax, set_name in zip(axes[0], shown, strict=True):
        matrix = np.array(report.matrices[set_name][name])
        ax.imshow(matrix, cmap="magma", norm=PowerNorm(0.5, vmin=0, vmax=max(matrix.max(), 1e-9)), origin="lower")
        ax.set_title(set_name)
        if name == "interval_transitions":
            ticks = [0, MAX_INTERVAL - 7, MAX_INTERVAL, MAX_INTERVAL + 7, 2 * MAX_INTERVAL]
            ax.set_xticks(ticks, [str(t - MAX_INTERVAL) for t in ticks])
            ax.set_yticks(ticks, [str(t - MAX_INTERVAL) for t in ticks])
        elif name == "pitch_class_transitions":
            ax.set_xticks(range(12), DEGREE_LABELS, fontsize=7)
            ax.set_yticks(range(12), DEGREE_LABELS, fontsize=7)
        ax.set_xlabel("next")
        ax.set_ylabel("current")
    return _png(figure)


def sweep_figure(report: Report) -> bytes:
    temps = [p.temperature for p in report.sweep]
    figure, axes = _subplots(1, 4, figsize=(16, 3.2))
    series = (("pitch_class_entropy", "pitch-class entropy (bits)"), ("uniqueness", "uniqueness of variations"),
              ("copy_rate", "copied n-gram share"), ("style_distance", "style distance (JS)"))
    for ax, (attribute, title) in zip(axes, series, strict=True):
        ax.plot(temps, [getattr(p, attribute) for p in report.sweep], marker="o", color=COLOURS[GENERATED])
        reference = _held_out_reference(report, attribute)
        if reference is not None:
            ax.axhline(reference, color=COLOURS[HELD_OUT], linestyle="--", label="held-out real")
            ax.legend(fontsize=7)
        ax.set_title(title)
        ax.set_xlabel("temperature")
    return _png(figure)


def _held_out_reference(report: Report, attribute: str) -> float | None:
    held = report.sets.get(HELD_OUT)
    if held is None:
        return None
    lookup = {"pitch_class_entropy": held.metrics.get("pitch_class_entropy"),
              "copy_rate": held.originality.get("ngram_copy_rate"),
              "style_distance": held.distances.get("style")}
    return lookup.get(attribute)


def learning_figure(report: Report) -> bytes:
    """Held-out cross-entropy per token type: model beside the n-gram baseline."""
    learning = report.learning
    types = sorted(set(learning.model.per_type) | set(learning.baseline.per_type))
    x = np.arange(len(types))
    figure, ax = _subplots(figsize=(max(5, 1.1 * len(types)), 3.2))
    model = [learning.model.per_type.get(t, {}).get("loss", math.nan) for t in types]
    baseline = [learning.baseline.per_type.get(t, {}).get("loss", math.nan) for t in types]
    ax.bar(x - 0.2, model, 0.4, label="transformer", color=COLOURS[GENERATED])
    ax.bar(x + 0.2, baseline, 0.4, label=learning.baseline_name, color=COLOURS[BASELINE])
    ax.set_xticks(x, types, rotation=30, fontsize=8)
    ax.set_ylabel("cross-entropy (nats/token)")
    ax.legend(fontsize=8)
    return _png(figure)


def report_figures(report) -> tuple[tuple[str, bytes], ...]:
    """Every figure of `report` as (title, PNG bytes), in the order a reader meets them."""
    out = [("Scale degrees, note values, metric positions", histograms_figure(report)),
           ("Per-piece metrics", piece_metrics_figure(report))]
    for name in MATRICES:
        out.append((f"Transitions: {name.replace('_', ' ')}", matrices_figure(report, name)))
    if report.learning is not None:
        out.append(("Learning", learning_figure(report)))
    if report.sweep:
        out.append(("Temperature sweep", sweep_figure(report)))
    return tuple(out)
