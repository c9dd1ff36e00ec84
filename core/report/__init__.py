"""The evaluation report: plain data (`data`), pictures (`figures`) and the HTML page (`html`)."""

from __future__ import annotations

import json
from pathlib import Path

from core.atomic import atomic_write_text
from core.report.data import Report


def write_report(report: Report, out_dir: str | Path) -> tuple[Path, Path]:
    """Write report.json and report.html into `out_dir` (atomically); returns both paths."""
    from core.report.html import render_html

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    json_path, html_path = out / "report.json", out / "report.html"
    atomic_write_text(json_path, json.dumps(report.to_json(), indent=1))
    atomic_write_text(html_path, render_html(report))
    return json_path, html_path
