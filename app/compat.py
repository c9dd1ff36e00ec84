"""Work-arounds for bugs in the libraries under the window, each with its test and its way out.

PySide6 6.12.0 on Python 3.11 hands out `None` and `True` without taking a reference to them
(shiboken 6.12 relies on Python 3.12's immortal singletons, PEP 683):

* every void C++ method returns `None` unreferenced, so each `painter.setPen(...)` or
  `widget.update()` lowers `None`'s reference count by one;
* every `Signal.emit(...)` returns `True` unreferenced, so each job event, progress tick or
  playhead move lowers `True`'s.

After some thousands (True) to tens of thousands (None) of calls, a few seconds of painting or a
few minutes of a running job, the count reaches zero and Python aborts with "Fatal Python error:
none_dealloc" or "bool_dealloc". `protect_singletons()` does what Python 3.12 does: it gives each
leaking singleton (and False, True's twin) a reference count so large it can never reach zero.
The way out is Python >= 3.12 or a PySide6 release that fixes shiboken; the function is a no-op
there.
"""

from __future__ import annotations

import ctypes
import sys

IMMORTAL_HEADROOM = 1 << 40  # 10^12 leaked references: years of painting and signalling
PROBE_CALLS = 20  # few: a probe of a leak costs the references it loses (True starts with ~1,000)


def leaking_singletons() -> list[object]:
    """The singletons that PySide6 calls lose references to here: None, True and False, or fewer."""
    if sys.version_info >= (3, 12):
        return []
    from PySide6.QtCore import QObject, Signal

    class Probe(QObject):
        poked = Signal()

    probe = Probe()
    leaking = []
    before = sys.getrefcount(None)
    for _ in range(PROBE_CALLS):
        probe.setObjectName("probe")
    if sys.getrefcount(None) <= before - PROBE_CALLS // 2:
        leaking.append(None)
    before = sys.getrefcount(True)
    for _ in range(PROBE_CALLS):
        probe.poked.emit()
    if sys.getrefcount(True) <= before - PROBE_CALLS // 2:
        leaking += [True, False]
    return leaking


def protect_singletons() -> list[object]:
    """Make the leaking singletons effectively immortal; returns those it had to protect.

    Call once per process, before the first window (it is idempotent).
    """
    if sys.version_info >= (3, 12):
        return []
    protected = []
    for singleton in leaking_singletons():
        if sys.getrefcount(singleton) > IMMORTAL_HEADROOM // 2:
            continue  # protected already
        refcount = ctypes.c_ssize_t.from_address(id(singleton))  # ob_refcnt: every object's first field
        refcount.value += IMMORTAL_HEADROOM
        protected.append(singleton)
    return protected

