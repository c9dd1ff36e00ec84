"""Toolbar icons painted with QPainter paths: crisp at any size, no image files, no icon theme.

Each icon is a small function drawing on a 24x24 canvas; `icon(name)` renders it once at 2x
for high-DPI screens and caches the QIcon.
"""

from __future__ import annotations

import math
from functools import cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap, QPolygonF

INK = QColor("#3b3f46")
ACCENT = QColor("#3d7fd9")
WARM = QColor("#e8893a")
RED = QColor("#d64541")


def _pen(color: QColor = INK, width: float = 2.0) -> QPen:
    pen = QPen(color, width)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    return pen


def _poly(*points: tuple[float, float]) -> QPolygonF:
    return QPolygonF([QPointF(x, y) for x, y in points])


def _open(p: QPainter) -> None:
    p.setPen(_pen())
    p.setBrush(QColor("#f2c46d"))
    path = QPainterPath()
    path.moveTo(3, 6); path.lineTo(9, 6); path.lineTo(11, 8); path.lineTo(21, 8)  # noqa: E702
    path.lineTo(21, 19); path.lineTo(3, 19); path.closeSubpath()  # noqa: E702
    p.drawPath(path)


def _save(p: QPainter) -> None:
    p.setPen(_pen())
    p.setBrush(ACCENT)
    p.drawRoundedRect(QRectF(4, 4, 16, 16), 2, 2)
    p.setBrush(QColor("white"))
    p.drawRect(QRectF(8, 4, 8, 5))
    p.drawRect(QRectF(7, 13, 10, 7))


def _arrow_turn(p: QPainter, mirror: bool) -> None:
    if mirror:
        p.translate(24, 0)
        p.scale(-1, 1)
    p.setPen(_pen(INK, 2.2))
    p.setBrush(Qt.BrushStyle.NoBrush)
    path = QPainterPath()
    path.moveTo(7, 10)
    path.lineTo(15, 10)
    path.cubicTo(21, 10, 21, 19, 15, 19)
    path.lineTo(9, 19)
    p.drawPath(path)
    p.setBrush(INK)
    p.drawPolygon(_poly((3, 10), (8, 5.5), (8, 14.5)))


def _select(p: QPainter) -> None:
    p.setPen(_pen(INK, 1.5))
    p.setBrush(QColor("white"))
    p.drawPolygon(_poly((6, 3), (6, 19), (10, 15), (13, 21), (15.5, 20), (12.5, 14), (18, 14)))


def _draw(p: QPainter) -> None:
    p.setPen(_pen(INK, 1.5))
    p.translate(12, 12)
    p.rotate(45)
    p.setBrush(WARM)
    p.drawRect(QRectF(-3, -10, 6, 14))
    p.setBrush(QColor("#f4d9b3"))
    p.drawPolygon(_poly((-3, 4), (3, 4), (0, 10)))


def _snap(p: QPainter) -> None:
    p.setPen(_pen(QColor("#9aa0a8"), 1))
    for x in (4, 10, 16):
        p.drawLine(QPointF(x, 3), QPointF(x, 21))
    p.setPen(_pen(INK, 1))
    p.setBrush(ACCENT)
    p.drawRoundedRect(QRectF(10, 9, 10, 6), 1.5, 1.5)
    p.setPen(_pen(RED, 2.5))
    p.drawLine(QPointF(10, 5), QPointF(10, 19))


def _magnifier(p: QPainter, sign: str) -> None:
    p.setPen(_pen(INK, 2.2))
    p.setBrush(QColor("white"))
    p.drawEllipse(QRectF(3, 3, 13, 13))
    p.drawLine(QPointF(14.5, 14.5), QPointF(21, 21))
    p.setPen(_pen(INK, 1.8))
    if sign in "+-":
        p.drawLine(QPointF(6.5, 9.5), QPointF(12.5, 9.5))
    if sign == "+":
        p.drawLine(QPointF(9.5, 6.5), QPointF(9.5, 12.5))
    if sign == "fit":
        p.drawRect(QRectF(6.5, 7, 6, 5))


def _play(p: QPainter) -> None:
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor("#3a9a4e"))
    p.drawPolygon(_poly((6, 4), (20, 12), (6, 20)))


def _rewind(p: QPainter) -> None:
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(INK)
    p.drawRect(QRectF(4, 5, 3, 14))
    p.drawPolygon(_poly((20, 5), (8, 12), (20, 19)))


def _loop(p: QPainter) -> None:
    p.setPen(_pen(INK, 2.2))
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawArc(QRectF(4, 5, 16, 14), 30 * 16, 300 * 16)
    p.setBrush(INK)
    angle = math.radians(30)
    x, y = 12 + 8 * math.cos(angle), 12 - 7 * math.sin(angle)
    p.drawPolygon(_poly((x + 3.5, y - 1), (x - 2.5, y - 3), (x + 0.5, y + 3.5)))


def _generate(p: QPainter) -> None:
    p.setPen(Qt.PenStyle.NoPen)
    for cx, cy, r, color in ((10, 13, 8, WARM), (18.5, 5.5, 4, ACCENT)):
        path = QPainterPath()
        for i in range(8):
            radius = r if i % 2 == 0 else r * 0.32
            a = math.pi / 4 * i
            point = QPointF(cx + radius * math.sin(a), cy - radius * math.cos(a))
            path.moveTo(point) if i == 0 else path.lineTo(point)
        path.closeSubpath()
        p.setBrush(color)
        p.drawPath(path)


def _stop(p: QPainter) -> None:
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(RED)
    p.drawRoundedRect(QRectF(6, 6, 12, 12), 1.5, 1.5)


def _continue(p: QPainter) -> None:
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(ACCENT)
    for x in (3, 7):
        p.drawRect(QRectF(x, 8, 3, 8))
    p.setBrush(WARM)
    p.drawPolygon(_poly((12, 5), (21, 12), (12, 19)))


def _regenerate(p: QPainter) -> None:
    """Bars between two others written anew: a turning arrow over a span."""
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(ACCENT)
    for x in (2, 19):
        p.drawRect(QRectF(x, 10, 3, 10))
    p.setBrush(WARM)
    p.drawRect(QRectF(7, 14, 10, 6))
    p.setPen(_pen(INK, 2.0))
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawArc(QRectF(6, 2, 12, 10), 20 * 16, 200 * 16)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(INK)
    p.drawPolygon(_poly((17.5, 1.5), (20.5, 7.5), (14, 7)))


PAINTERS = {
    "open": _open, "save": _save, "undo": lambda p: _arrow_turn(p, False), "redo": lambda p: _arrow_turn(p, True),
    "select": _select, "draw": _draw, "snap": _snap, "zoom-in": lambda p: _magnifier(p, "+"),
    "zoom-out": lambda p: _magnifier(p, "-"), "zoom-fit": lambda p: _magnifier(p, "fit"), "play": _play,
    "rewind": _rewind, "loop": _loop, "generate": _generate, "stop": _stop, "continue": _continue,
    "regenerate": _regenerate,
}


@cache
def icon(name: str) -> QIcon:
    pixmap = QPixmap(48, 48)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.scale(2, 2)
    painter.setBrush(QBrush(Qt.BrushStyle.NoBrush))
    PAINTERS[name](painter)
    painter.end()
    pixmap.setDevicePixelRatio(2)
    return QIcon(pixmap)
