"""One sync worker per database: a second one is told at once that sync is busy."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from sync.lock import SyncBusy
from sync.store import Store

_HOLDER = """
import sys, time
from pathlib import Path
from sync.store import open_store
store = open_store(Path(sys.argv[1]))
with store.sync_lock():
    print("locked", flush=True)
    time.sleep(600)
"""


def test_a_second_worker_in_the_same_process_is_refused(store: Store) -> None:
    with store.sync_lock():
        with pytest.raises(SyncBusy, match="another sync is running"):
            with store.sync_lock():
                pass
    with store.sync_lock():  # released: available again
        pass


def test_a_worker_in_another_process_is_refused_until_the_holder_dies(store: Store) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(store.path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        with pytest.raises(SyncBusy):
            with store.sync_lock():
                pass
    finally:
        holder.send_signal(signal.SIGKILL)  # a crashed worker leaves no stale lock
        holder.wait(timeout=30)
    with store.sync_lock():
        pass


def test_the_lock_file_sits_beside_the_database(store: Store) -> None:
    with store.sync_lock():
        assert (Path(store.path).parent / "sync.lock").exists()
