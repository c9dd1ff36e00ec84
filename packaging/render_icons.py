"""Render resources/icons/partita.svg to the PNG sizes desktops ask for (16 to 512 px).

Run after editing the SVG: `.venv/bin/python packaging/render_icons.py`. The PNGs are committed,
so building the bundle does not need this script. Sizes up to 32 px are drawn from
partita-small.svg, a simplified design (three stave lines, no spark) that stays legible.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ICONS = Path(__file__).resolve().parents[1] / "resources" / "icons"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
SMALL = 32  # at and below this size the simplified drawing is used


def render(svg: Path, size: int, out: Path) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"{svg}: not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    if not image.save(str(out)):
        raise SystemExit(f"{out}: could not write")


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 (fonts, image plugins)
    for size in SIZES:
        source = ICONS / ("partita-small.svg" if size <= SMALL and (ICONS / "partita-small.svg").exists()
                          else "partita.svg")
        out = ICONS / f"partita-{size}.png"
        render(source, size, out)
        print(f"{out.relative_to(ICONS.parents[1])}: {size}x{size} from {source.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
