"""Run slow work off the UI thread, then update the screen with the result.

SQLite, HTTP, printing and decoding never run on the UI thread: a screen calls
:func:`run_in_background` with the work and what to do with its result, and stays
responsive meanwhile::

    run_in_background(lambda: store.enqueue(...), on_done=self.show_receipt,
                      on_error=self.show_problem, context=self)

``work`` runs on Qt's global thread pool; ``on_done(result)`` or ``on_error(exc)`` then run
on the UI thread. When ``context`` (usually the screen) is destroyed before the work ends,
the callbacks are dropped instead of touching a dead widget.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, QThreadPool, QTimer, Signal, Slot

from kiosk.pyside_fixes import guard_bool_refcounts

log = logging.getLogger(__name__)

# Every part of the kiosk that emits Qt signals imports this module: guard before the first emit.
guard_bool_refcounts()

_RUNNING: set[BackgroundTask] = set()  # keeps tasks (and their signal objects) alive until delivered


class _Relay(QObject):
    """Lives on the UI thread; the worker emits, Qt delivers on the UI thread (queued)."""

    done = Signal(object)
    failed = Signal(object)


class BackgroundTask:
    """One piece of work for the thread pool, with its callbacks.

    Not a ``QRunnable``: the pool is given the bound :meth:`run` (``QThreadPool.start`` of a
    callable), which Qt wraps and frees itself. A ``QRunnable`` subclass handed to the pool
    stays referenced from C++ once it has run, and a kiosk runs a few tasks per citizen.
    """

    def __init__(
        self,
        work: Callable[[], Any],
        on_done: Callable[[Any], None] | None,
        on_error: Callable[[BaseException], None] | None,
        context: QObject | None,
        name: str,
    ) -> None:
        self.name = name
        self._work = work
        self._on_done = on_done
        self._on_error = on_error
        self._context = context
        # Created on the UI thread, so delivery is queued to it; parented to the application so that
        # Qt, not Python, destroys it (with deleteLater, after its last signal), on the UI thread.
        self._relay: _Relay | None = _Relay(QCoreApplication.instance())
        self._relay.done.connect(self._deliver_done)
        self._relay.failed.connect(self._deliver_error)

    def run(self) -> None:  # worker thread
        """Do the work and hand the outcome to the UI thread."""
        relay, work = self._relay, self._work
        if relay is None or work is None:
            return
        try:
            result = work()
        except Exception as exc:
            log.warning("background task %s failed: %s: %s", self.name, type(exc).__name__, exc)
            self._deliver(relay.failed, exc)
        else:
            self._deliver(relay.done, result)

    def _deliver(self, signal: Any, value: Any) -> None:
        try:
            signal.emit(value)
        except RuntimeError:  # the application is shutting down and Qt objects are gone
            log.debug("background task %s finished after shutdown; result dropped", self.name)

    def _context_alive(self) -> bool:
        if self._context is None or shiboken6.isValid(self._context):
            return True
        log.debug("background task %s: result dropped, its screen is gone", self.name)
        return False

    @Slot(object)
    def _deliver_done(self, result: Any) -> None:
        try:
            if self._on_done is not None and self._context_alive():
                self._on_done(result)
        finally:
            self._forget()

    @Slot(object)
    def _deliver_error(self, exc: BaseException) -> None:
        try:
            if self._on_error is not None:
                if self._context_alive():
                    self._on_error(exc)
            else:
                log.error("background task %s failed and nobody handles it: %s", self.name, exc)
        finally:
            self._forget()

    def _forget(self) -> None:
        """Let go of everything: the task, its closures (which may hold a citizen's answers) and its relay.

        The relay's signal connections point back at this task from C++, a cycle Python's
        garbage collector cannot see; they go when the relay is destroyed (``deleteLater``,
        on the next turn of the event loop), and the task's own references are dropped here
        at once, so nothing its closures captured (answers, scanned pages) outlives it.

        The signals are not ``disconnect()``-ed: in PySide6 6.12 every call of
        ``SignalInstance.disconnect`` takes one reference too many from the ``True`` (or
        ``False``) it returns. Two calls per task brought ``True``'s count to zero after about
        a thousand citizen sessions, and the interpreter aborted the kiosk ("bool_dealloc:
        deallocating True or False"). Blocking the relay's signals stops any late delivery.
        """
        _RUNNING.discard(self)
        self._work = self._on_done = self._on_error = None
        self._context = None
        relay, self._relay = self._relay, None
        if relay is not None and shiboken6.isValid(relay):
            relay.blockSignals(True)
            relay.deleteLater()


def run_in_background(
    work: Callable[[], Any],
    *,
    on_done: Callable[[Any], None] | None = None,
    on_error: Callable[[BaseException], None] | None = None,
    context: QObject | None = None,
    name: str = "task",
) -> BackgroundTask:
    """Run ``work()`` on the thread pool; then ``on_done(result)`` or ``on_error(exc)`` on the UI thread."""
    task = BackgroundTask(work, on_done, on_error, context, name)
    _RUNNING.add(task)  # keeps the task (and its relay) alive until delivered
    QThreadPool.globalInstance().start(task.run)
    return task


def pending_tasks() -> int:
    """How many tasks have not delivered their outcome yet (tests wait for 0)."""
    return len(_RUNNING)


def wait_for_background(timeout_ms: int = 30_000) -> bool:
    """Block until the thread pool is idle (shutdown only: never call this from a screen)."""
    return QThreadPool.globalInstance().waitForDone(timeout_ms)


class UiThreadGarbageCollector(QObject):
    """Python's cyclic garbage collection, run only on the UI thread.

    The collector normally runs in whichever thread happens to allocate when a threshold is
    crossed: the sync worker, a print job, a module imported on first use. PySide's wrappers
    are not safe to traverse or free there while the UI thread creates and deletes widgets,
    and a cycle holding the last reference to a Python-owned widget would destroy it on the
    wrong thread. Both crashed the kiosk (a segmentation fault in ``gc`` under a print job
    after a few dozen benchmark sessions; now and then in the agent station's tests). So
    while a window lives, automatic collection is off and a UI-thread timer collects the
    generations whose counts are over their thresholds (the approach pyqtgraph's
    ``GarbageCollector`` takes). Reference counting, which frees almost everything, is not
    affected.
    """

    def __init__(self, interval_ms: int = 500, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._was_enabled = gc.isenabled()
        self._threshold = gc.get_threshold()
        self.ticks = 0
        gc.disable()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.collect)
        self.timer.start(interval_ms)

    def collect(self) -> None:
        """Collect the generations whose counts are over their thresholds (UI thread)."""
        self.ticks += 1
        count0, count1, count2 = gc.get_count()
        if count0 > self._threshold[0]:
            gc.collect(0)
            if count1 > self._threshold[1]:
                gc.collect(1)
                if count2 > self._threshold[2]:
                    gc.collect(2)

    def stop(self) -> None:
        """Back to automatic collection as it was (window closed, shutdown, end of a test)."""
        self.timer.stop()
        if self._was_enabled:
            gc.enable()
