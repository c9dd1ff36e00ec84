"""The PySide6 reference-leak work-around keeps None and True alive through heavy use."""

from __future__ import annotations

import subprocess
import sys

import pytest
from PySide6.QtCore import QObject, QRectF, Signal
from PySide6.QtGui import QColor, QImage, QPainter

from app.compat import IMMORTAL_HEADROOM, leaking_singletons, protect_singletons


class Emitter(QObject):
    event = Signal(int, object)


def test_none_survives_a_million_void_calls(qtbot):
    protect_singletons()
    image = QImage(8, 8, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    rect, colour = QRectF(0, 0, 4, 4), QColor("red")
    for _ in range(200_000):  # ~5x None's natural reference count on Python 3.11
        painter.fillRect(rect, colour)
    painter.end()
    if sys.version_info < (3, 12):
        assert sys.getrefcount(None) > IMMORTAL_HEADROOM // 2


def test_true_survives_many_signal_emissions(qtbot):
    """Each emit loses a reference to True on 6.12 + 3.11: a job's events would kill the app."""
    protect_singletons()
    emitter = Emitter()
    for step in range(100_000):  # ~50x True's natural reference count
        emitter.event.emit(step, None)
    if sys.version_info < (3, 12):
        assert sys.getrefcount(True) > IMMORTAL_HEADROOM // 2


def test_without_the_work_around_a_few_thousand_emissions_abort_python():
    """Where the bug is present, it is what the work-around says: a bare process dies of it."""
    if True not in leaking_singletons():
        pytest.skip("Signal.emit no longer leaks True here: app/compat.py's True/False part can go")
    child = ("from PySide6.QtCore import QObject, Signal\n"
             "class E(QObject):\n    s = Signal()\n"
             "e = E()\nfor _ in range(100_000): e.s.emit()\nprint('survived')\n")
    result = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=60)
    assert "survived" not in result.stdout and "bool_dealloc" in result.stderr
