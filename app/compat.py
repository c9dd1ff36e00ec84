"""Work-arounds for bugs in the libraries under the window, each with its test and its way out.

PySide6 6.12.0 on Python 3.11 returns `None` from every void C++ method without taking a
reference to it (shiboken 6.12 relies on Python 3.12's immortal `None`, PEP 683). Each call
such as `painter.setPen(...)` or `widget.update()` then lowers `None`'s reference count by one;
after some tens of thousands of calls (a few seconds of painting the piano roll) it reaches
zero and Python aborts with "Fatal Python error: none_dealloc". `protect_none()` does what
Python 3.12 does: it gives `None` a reference count so large it can never reach zero. The
way out is Python >= 3.12 or a PySide6 release that fixes shiboken; the function is a no-op
there.
"""

from __future__ import annotations

import ctypes
import sys

IMMORTAL_HEADROOM = 1 << 40  # 10^12 leaked references: years of painting


def none_refcount_leaks() -> bool:
    """True when calling a void PySide6 method loses a reference to None (the 6.12 + 3.11 bug)."""
    if sys.version_info >= (3, 12):
        return False
    from PySide6.QtCore import QObject

    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(100):
        probe.setObjectName("probe")
    return sys.getrefcount(None) < before - 50


def protect_none() -> bool:
    """Make `None` effectively immortal where PySide6 leaks it; returns True if it had to."""
    if sys.version_info >= (3, 12) or sys.getrefcount(None) > IMMORTAL_HEADROOM // 2:
        return False
    if not none_refcount_leaks():
        return False
    refcount = ctypes.c_ssize_t.from_address(id(None))  # ob_refcnt is the first field of every object
    refcount.value += IMMORTAL_HEADROOM
    return True
