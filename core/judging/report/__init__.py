"""The evaluation report: plain data (`data`), pictures (`figures`) and the HTML page (`html`)."""

from __future__ import annotations

import json
from pathlib import Path

from core.atomic import atomic_write_text
from core.judging.report.data import Report
from core.reading import read_json


def write_report(report: Report, out_dir: str | Path) -> tuple[Path, Path]:
    """Write report.json and report.html into `out_dir` (atomically); returns both paths."""
    from core.judging.report.html import render_html

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    json_path, html_path = out / "report.json", out / "report.html"
    atomic_write_text(json_path, json.dumps(report.to_json(), indent=1))
    atomic_write_text(html_path, render_html(report))
    return json_path, html_path


def read_report(out_dir: str | Path) -> dict:
    """The figures of a report written earlier (report.json), as plain data for the GUI."""
    path = Path(out_dir) / "report.json"
    try:
        # within core.reading's bounds: a regular file of a config's size (a FIFO would block)
        data = read_json(path, what="a report.json")
    except FileNotFoundError:
        raise ValueError(f"{path}: no report here (run `partita evaluate` first)") from None
    except (OSError, ValueError) as error:
        raise ValueError(f"{path}: unreadable report ({error})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: unreadable report (not a JSON object)")
    return data


def headline_text(report: Report) -> str:
    """The headline table as fixed-width text (for the terminal and for notes)."""
    rows = report.headline()
    columns = report.columns()
    width = max(len(r["label"]) for r in rows) + 2
    cell = max(10, *(len(c) + 2 for c in columns))
    lines = ["".ljust(width) + "".join(c.rjust(cell) for c in columns)]
    for row in rows:
        cells = []
        for column in columns:
            value = row["values"].get(column)
            cells.append(("–" if value is None or value != value else f"{value:.3f}").rjust(cell))
        lines.append(row["label"].ljust(width) + "".join(cells))
    return "\n".join(lines)
