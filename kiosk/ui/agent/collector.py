"""Python's garbage collector, run on the UI thread only.

A collection starts in whichever thread happens to allocate when a threshold is crossed,
which is often a background task (compiling a module on first import, building a PDF).
PySide's wrappers are not safe to traverse there while the UI thread creates and deletes
widgets: the agent station's tests crashed that way now and then (a segmentation fault in
``visit_decref`` under shiboken's traverse, in a pooled thread). So while the window lives,
automatic collection is off and a timer on the UI thread collects instead, generation by
generation as the counts demand (the approach pyqtgraph's ``GarbageCollector`` takes).
"""

from __future__ import annotations

import gc
import logging

from PySide6.QtCore import QObject, QTimer

log = logging.getLogger(__name__)

INTERVAL_MS = 500


class MainThreadCollector(QObject):
    """Disables automatic collection and collects from a UI-thread timer until :meth:`stop`."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = INTERVAL_MS) -> None:
        super().__init__(parent)
        self._was_enabled = gc.isenabled()
        self._threshold = gc.get_threshold()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.check)
        self._timer.start(interval_ms)

    def check(self) -> None:
        """Collect the generations whose counts are over their thresholds (UI thread)."""
        count0, count1, count2 = gc.get_count()
        if count0 > self._threshold[0]:
            gc.collect(0)
            if count1 > self._threshold[1]:
                gc.collect(1)
                if count2 > self._threshold[2]:
                    gc.collect(2)

    def stop(self) -> None:
        """Back to automatic collection (as it was before)."""
        self._timer.stop()
        if self._was_enabled:
            gc.enable()
