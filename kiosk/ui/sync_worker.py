"""The background sync engine of the running kiosk.

One worker thread runs :func:`sync.engine.run_once` every ``sync_interval_seconds`` (and
at once when woken, for example right after a citizen submits), with its own connection
to the terminal's database. It never touches a widget: each cycle's report goes to the
UI thread through the :attr:`SyncWorker.reported` signal (a queued connection), where the
status strip shows "online / offline" and the number of items waiting.

A cycle that fails unexpectedly (the disk is full, say) is logged and the next one runs
at the next interval as usual: the worker never stops syncing for good while the kiosk runs.

Stopping (SIGTERM, end of the application) waits for the running cycle: the engine commits
each step itself, so an interrupted cycle loses nothing, but a clean stop leaves no item
"sending" for the next start to release.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from sync.client import InsecureUrlError
from sync.engine import SyncOptions, SyncReport, client_for, run_once
from sync.store import Store, database_path, open_store

log = logging.getLogger(__name__)

# Why a cycle's push ended early -> what the status strip says about the central platform.
OFFLINE_REASONS = frozenset({"network", "auth", "refused"})


def central_state(report: SyncReport | None, enrolled: bool) -> str:
    """``online``, ``offline``, ``unenrolled`` or ``unknown`` for the status strip."""
    if not enrolled:
        return "unenrolled"
    if report is None or report.busy:
        return "unknown"
    contacted = report.pushed > 0 or report.status_changes > 0 or report.catalog in ("unchanged", "updated", "rejected")
    if report.stopped in OFFLINE_REASONS or (report.errors and not contacted):
        return "offline"
    return "online"


class SyncWorker(QObject):
    """Runs sync cycles in a thread; reports each one to the UI thread."""

    reported = Signal(object, str)  # SyncReport | None, central state

    def __init__(self, data_dir: Path, config: Any, options: SyncOptions, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.data_dir = Path(data_dir)
        self.config = config
        self.options = options
        self.interval = float(config.central.sync_interval_seconds)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.cycles = 0

    def start(self) -> None:
        """Start the thread (the first cycle runs at once)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="sync-worker", daemon=True)
            self._thread.start()

    def wake(self) -> None:
        """Run a cycle now (a submission was just committed)."""
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the thread to finish its cycle and end; wait up to ``timeout`` seconds."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("the sync worker did not stop within %.0f s; its cycle resumes at the next start", timeout)
            self._thread = None

    def _loop(self) -> None:
        store: Store | None = None
        try:
            while not self._stop.is_set():
                self._wake.clear()
                try:
                    if store is None:  # opened here, so a store that cannot open now may later
                        store = open_store(database_path(self.data_dir))
                    report, state = self._cycle(store)
                except Exception:  # a full disk, a damaged answer...: try again next interval
                    log.exception("sync cycle failed; trying again in %.0f s", self.interval)
                    report, state = None, "unknown"
                self.cycles += 1
                self.reported.emit(report, state)
                self._wake.wait(self.interval)
        finally:
            if store is not None:
                store.close()

    def _cycle(self, store: Store) -> tuple[SyncReport | None, str]:
        from kiosk.commands.enroll import client_settings_from

        enrolment = store.enrolment()
        if enrolment is None:
            return None, central_state(None, enrolled=False)
        try:
            client = client_for(enrolment, **client_settings_from(self.config))
        except (InsecureUrlError, FileNotFoundError) as exc:
            log.error("cannot sync: %s", exc)
            return None, "offline"
        with client:
            report = run_once(store, client, options=self.options)
        return report, central_state(report, enrolled=True)
