"""`report.html`: one static, self-contained page (pictures embedded as base64 PNG)."""

from __future__ import annotations

import base64
import html
import math

from core.judging.report import figures
from core.judging.report.data import HELD_OUT, REAL_CONTINUATIONS, Report

STYLE = """
body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;color:#222;line-height:1.4}
table{border-collapse:collapse;margin:1em 0;font-size:14px}
th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}
thead th{background:#f3f3f3}
td.best{background:#e6f4e6;font-weight:600}
.flag{background:#fdecea;border-left:4px solid #d62728;padding:.5em 1em;margin:1em 0}
.ok{background:#e9f5ec;border-left:4px solid #2ca02c;padding:.5em 1em;margin:1em 0}
img{max-width:100%}
small{color:#666}
"""


def _fmt(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.3f}"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _img(png: bytes, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode()}">'


def _headline_table(report: Report) -> str:
    rows = report.headline()
    columns = report.columns()
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = []
    held_out = report.sets.get(HELD_OUT)
    for row in rows:
        values = row["values"]
        best = _best(values, row["better"], held_out, row)
        cells = "".join(
            f'<td class="{"best" if c == best else ""}">{_fmt(values.get(c))}</td>' for c in columns)
        arrow = {"low": "↓", "high": "↑", "near real": "≈ real"}[row["better"]]
        body.append(f"<tr><td>{html.escape(row['label'])} <small>{arrow}</small></td>{cells}</tr>")
    return f"<table><thead><tr><th>figure</th>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _best(values: dict, better: str, held_out, row) -> str | None:
    real = (HELD_OUT, REAL_CONTINUATIONS)
    finite = {k: v for k, v in values.items() if v is not None and not math.isnan(v) and k not in real}
    if not finite:
        return None
    if better == "low":
        return min(finite, key=finite.get)
    if better == "high":
        return max(finite, key=finite.get)
    target = values.get(HELD_OUT)
    if target is None or math.isnan(target):
        return None
    return min(finite, key=lambda k: abs(finite[k] - target))


def _learning(report: Report) -> str:
    learning = report.learning
    if learning is None:
        return "<p>No learning figures (no model given).</p>"
    verdict = (f'<div class="ok">The transformer beats the {html.escape(learning.baseline_name)} by '
               f"{learning.margin_nats:.3f} nats/token on {learning.model.tokens} held-out tokens.</div>"
               if learning.beats_baseline else
               f'<div class="flag"><b>Flag:</b> the transformer does not beat the '
               f"{html.escape(learning.baseline_name)} (behind by {-learning.margin_nats:.3f} nats/token).</div>")
    rows = []
    for label, figures_ in (("transformer", learning.model), (learning.baseline_name, learning.baseline)):
        rows.append(f"<tr><td>{html.escape(label)}</td><td>{_fmt(figures_.loss)}</td>"
                    f"<td>{_fmt(figures_.perplexity)}</td><td>{_fmt(figures_.accuracy)}</td></tr>")
    types = sorted(set(learning.model.per_type) | set(learning.baseline.per_type))
    per_type = "".join(
        f"<tr><td>{html.escape(t)}</td>"
        f"<td>{_fmt(learning.model.per_type.get(t, {}).get('loss'))}</td>"
        f"<td>{_fmt(learning.baseline.per_type.get(t, {}).get('loss'))}</td>"
        f"<td>{_fmt(learning.model.per_type.get(t, {}).get('accuracy'))}</td>"
        f"<td>{_fmt(learning.baseline.per_type.get(t, {}).get('accuracy'))}</td></tr>" for t in types)
    return (verdict +
            "<table><thead><tr><th>model</th><th>cross-entropy (nats)</th><th>perplexity</th><th>accuracy</th>"
            f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
            "<table><thead><tr><th>token type</th><th>loss, transformer</th><th>loss, n-gram</th>"
            f"<th>accuracy, transformer</th><th>accuracy, n-gram</th></tr></thead><tbody>{per_type}</tbody></table>"
            + _img(figures.learning_figure(report), "cross-entropy per token type")
            + f"<p><small>Held-out pieces: {html.escape(', '.join(learning.pieces))}</small></p>")


def _copies(report: Report) -> str:
    if not report.copies:
        return '<div class="ok">No piece is flagged as a copy of the training set.</div>'
    items = "".join(f"<li><b>{html.escape(c.set)}</b> · {html.escape(c.piece)}: {html.escape(c.description)} "
                    f"(copied n-grams {c.ngram_copy_rate:.0%})</li>" for c in report.copies)
    return f'<div class="flag"><b>Flagged copies</b><ul>{items}</ul></div>'


def render_html(report: Report) -> str:
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(report.title)}</title>"
             f"<style>{STYLE}</style></head><body><h1>{html.escape(report.title)}</h1>"]
    parts += [f'<div class="flag">{html.escape(w)}</div>' for w in report.warnings]
    parts.append("<h2>Headline</h2><p>Each set is measured against the "
                 f"{len(report.training_pieces)} training pieces. Green: the best set other than the "
                 "held-out real music (lowest, highest, or nearest to held-out real, as the arrow says).</p>")
    parts.append(_headline_table(report))
    parts += [f"<p><small>{html.escape(note)}</small></p>" for note in report.notes]
    parts.append("<h2>Is the model learning?</h2>" + _learning(report))
    parts.append("<h2>Copies</h2>" + _copies(report))
    parts.append("<h2>Distributions, overlaid</h2>" + _img(figures.histograms_figure(report), "histograms"))
    if report.piece_values:
        parts.append(_img(figures.piece_metrics_figure(report), "per-piece metrics"))
    parts.append("<h2>Transition matrices</h2><p>Rows: current interval (semitones); columns: next interval.</p>")
    parts.append(_img(figures.matrices_figure(report, "interval_transitions"), "interval transitions"))
    parts.append(_img(figures.matrices_figure(report, "duration_transitions"), "duration transitions"))
    if report.sweep:
        parts.append("<h2>Temperature sweep</h2><p>Pick a temperature where style distance and copying stay low "
                     "while entropy and uniqueness stay near the real music.</p>")
        parts.append(_img(figures.sweep_figure(report), "temperature sweep"))
        rows = "".join(f"<tr><td>{p.temperature:g}</td><td>{_fmt(p.pitch_class_entropy)}</td><td>{_fmt(p.uniqueness)}"
                       f"</td><td>{_fmt(p.copy_rate)}</td><td>{_fmt(p.style_distance)}</td></tr>" for p in report.sweep)
        parts.append("<table><thead><tr><th>temperature</th><th>pitch-class entropy</th><th>uniqueness</th>"
                     f"<th>copy rate</th><th>style distance</th></tr></thead><tbody>{rows}</tbody></table>")
    if report.uniqueness is not None:
        parts.append(f"<p>Uniqueness of variations from one seed: <b>{_fmt(report.uniqueness)}</b> "
                     "(mean pairwise Jaccard distance of interval/rhythm 4-grams; 0 identical, 1 nothing shared).</p>")
    quantization = "".join(f"<tr><td>{html.escape(m)}</td><td style='text-align:left'>{html.escape(why)}</td></tr>"
                           for m, why in report.quantization.items())
    parts.append("<h2>Quantization</h2><p>These metrics compare onsets or note values, so unquantized performance "
                 "(such as the jazz solos) is quantized by inter-onset intervals first; pitch metrics and MusPy's "
                 "tick-level figures use the music as given.</p>"
                 f"<table><tbody>{quantization}</tbody></table>")
    parts.append("</body></html>")
    return "\n".join(parts)
