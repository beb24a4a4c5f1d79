"""One sync worker per database: an exclusive, non-blocking file lock.

The UI's background worker and a technician's ``kiosk sync`` may both want to push the
outbox. Whoever holds ``sync.lock`` in the data folder sends; the other gets
:class:`SyncBusy` at once instead of waiting or sending the same items concurrently.

The lock is an OS lock on an open file (``flock`` on POSIX, ``msvcrt.locking`` on
Windows): it disappears with the process, so a crashed worker never leaves a stale lock.
Two acquisitions in the same process also exclude each other.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)

SYNC_LOCK_FILE_NAME = "sync.lock"


class SyncBusy(Exception):
    """Another sync worker holds the lock on this database; try again later."""


@contextmanager
def sync_lock(path: Path) -> Iterator[None]:
    """Hold the sync lock file at ``path`` for the ``with`` block.

    Raises:
        SyncBusy: another worker (in this or another process) holds it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            _lock(fd)
        except OSError as exc:
            raise SyncBusy(f"another sync is running on this terminal (lock {path})") from exc
        try:
            try:
                os.ftruncate(fd, 0)
                os.write(fd, f"{os.getpid()}\n".encode())  # who holds it, for a technician
            except OSError as exc:  # a full disk: the note is a courtesy, the lock holds
                log.warning("Sync lock %s: cannot note the holder's pid: %s", path, exc)
            log.debug("Sync lock %s taken", path)
            yield
        finally:
            _unlock(fd)
            log.debug("Sync lock %s released", path)
    finally:
        os.close(fd)


if sys.platform == "win32":  # pragma: no cover - exercised on Windows terminals only
    import msvcrt

    def _lock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
