"""A guard against a reference-counting bug of PySide6 that aborts a long-running kiosk.

In PySide6 6.12.0, ``SignalInstance.emit()`` and ``SignalInstance.disconnect()`` return
their ``bool`` result without owning a reference to it: every call takes one reference
from ``True`` (or ``False``) for good. On Python 3.11 these are ordinary objects; when
``True``'s count reaches zero the interpreter aborts with "bool_dealloc: deallocating
True or False". A kiosk emits a signal for every background task, key press and sync
report, and ``True`` starts with about ten thousand references: the soak
(``bench/soak.py``) would have lost the kiosk after roughly a thousand citizens.

Python 3.12 made ``True``, ``False`` and ``None`` immortal (PEP 683) and the bug is harmless
there. On older CPython, :func:`guard_bool_refcounts` checks whether the PySide6 in use has
the bug and, only then, does what 3.12 does: gives ``True`` and ``False`` a reference count
so large that no number of stolen references in the life of a process can bring it to zero.
The better fix is a PySide6 without the bug (6.11.3 does not have it, see
docs/reliability.md); the guard keeps a kiosk installed with 6.12.0 alive.
"""

from __future__ import annotations

import ctypes
import logging
import sys

log = logging.getLogger(__name__)

PROBE_EMITS = 64
# 2**40 references: at a million stolen references a second, 12 days of nothing else
IMMORTAL_MARGIN = 1 << 40

_guarded = False


def emit_steals_bool_references() -> bool:
    """Whether ``Signal.emit()`` of the PySide6 in use takes a reference from the bool it returns."""
    from PySide6.QtCore import QObject, Signal

    class Probe(QObject):
        fired = Signal(object)

    probe = Probe()
    probe.fired.connect(_ignore)
    before_true, before_false = sys.getrefcount(True), sys.getrefcount(False)
    for _ in range(PROBE_EMITS):
        probe.fired.emit(None)
    lost = (before_true - sys.getrefcount(True)) + (before_false - sys.getrefcount(False))
    return lost >= PROBE_EMITS // 2


def _ignore(_value: object) -> None:
    pass


def guard_bool_refcounts() -> bool:
    """Make ``True`` and ``False`` effectively immortal if PySide6 steals references from them.

    Idempotent; does nothing on Python 3.12+ (already immortal) or when the bug is absent.
    Returns whether the guard is in force.
    """
    global _guarded
    if _guarded:
        return True
    if sys.implementation.name != "cpython" or sys.version_info >= (3, 12):
        return False
    if not emit_steals_bool_references():
        return False
    for obj in (True, False):
        # ob_refcnt is the first field of every CPython object (Py_ssize_t)
        ctypes.c_ssize_t.from_address(id(obj)).value += IMMORTAL_MARGIN
    _guarded = True
    import PySide6

    log.info("PySide6 %s takes a reference from True/False on every signal emit; True and False "
                "are made immortal (as Python 3.12 does) so the kiosk cannot abort. Use another PySide6.",
                PySide6.__version__)
    return True
