"""The PySide6 reference-leak work-around keeps None alive through heavy painting."""

from __future__ import annotations

import sys

from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QImage, QPainter

from app.compat import IMMORTAL_HEADROOM, protect_none


def test_none_survives_a_million_void_calls(qtbot):
    protect_none()
    image = QImage(8, 8, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    rect, colour = QRectF(0, 0, 4, 4), QColor("red")
    for _ in range(200_000):  # ~5x None's natural reference count on Python 3.11
        painter.fillRect(rect, colour)
    painter.end()
    if sys.version_info < (3, 12):
        assert sys.getrefcount(None) > IMMORTAL_HEADROOM // 2
