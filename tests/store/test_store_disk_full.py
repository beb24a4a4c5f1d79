"""A (nearly) full disk: new submissions are refused clearly, the queue is never damaged.

Two ways the disk runs out, both real:

* the reserve: the store refuses a new submission while the data folder's disk has less
  free space than ``min_free_mb`` (the kiosk's ``[store] min_free_disk_mb``), before
  SQLite ever meets a full disk. Measured with the real ``statvfs`` of the test's disk:
  a reserve larger than the free space there is "below the reserve".
* really full: a 4 MB tmpfs mounted for the test (:mod:`tests.support.smalldisk`; the test
  is skipped, saying why, where mounting is not permitted) filled up during enqueues until
  SQLite answers ``SQLITE_FULL``.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sync.enrolment import Enrolment
from sync.store import StorageFull, Store, StoreError, database_path, open_store
from sync.submission import Attachment
from tests.support.smalldisk import SmallDiskUnavailable, fill_up, free_bytes, free_up, small_disk

from .conftest import NOW


def _submit(store: Store, n: int, size: int = 20_000) -> str:
    scan = Attachment(hashlib.sha256(str(n).encode()).digest() * (size // 32), "image/jpeg", "p.jpg")
    answers = {"name": "张三", "id_number": "11010519491231002X", "residence_proof": [scan.ref()]}
    return store.enqueue("residence-permit", "1.0.0", answers, attachments=[scan], now=NOW).receipt_no


def _queue(store: Store) -> dict[str, bytes]:
    """receipt number -> sealed payload, for every submission in the store."""
    rows = store.db.execute("SELECT receipt_no, sealed_payload FROM submissions").fetchall()
    return {r[0]: r[1] for r in rows}


def test_below_the_reserve_a_submission_is_refused_naming_folder_space_and_setting(
    data_dir: Path, keypair: tuple[bytes, bytes], make_enrolment: Callable[..., Enrolment]
) -> None:
    free_mb = shutil.disk_usage(data_dir).free / 1_000_000
    with open_store(database_path(data_dir), min_free_mb=free_mb + 1000) as store:
        store.save_enrolment(make_enrolment(keypair[1]), now=NOW)
        with pytest.raises(StorageFull) as caught:
            _submit(store, 1)
        message = str(caught.value)
        assert str(data_dir) in message and "MB free" in message
        assert "[store] min_free_disk_mb" in message
        assert store.counts()["pending"] == 0
    # Nothing was written, not even a receipt number: the first one is still number 1.
    with open_store(database_path(data_dir), min_free_mb=0) as store:
        assert "-00001-" in _submit(store, 2)


def test_with_room_above_the_reserve_submissions_are_accepted(enrolled: Store) -> None:
    _submit(enrolled, 1)  # the default reserve (100 MB) is far below the test disk's space
    assert enrolled.counts()["pending"] == 1


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MB tmpfs, or a skip saying why it cannot be mounted."""
    try:
        with small_disk(tmp_path / "disk", size_mb=4) as folder:
            yield folder
    except SmallDiskUnavailable as exc:
        pytest.skip(str(exc))


def test_the_reserve_refuses_before_the_disk_is_really_full(
    tiny_disk: Path, keypair: tuple[bytes, bytes], make_enrolment: Callable[..., Enrolment]
) -> None:
    with open_store(database_path(tiny_disk / "data"), min_free_mb=1) as store:
        store.save_enrolment(make_enrolment(keypair[1]), now=NOW)
        accepted = []
        with pytest.raises(StorageFull, match="not accepting new submissions"):
            for n in range(1000):
                accepted.append(_submit(store, n))
        assert len(accepted) > 10
        assert free_bytes(tiny_disk) > 500_000  # refused with room to spare, not at ENOSPC
        assert store.integrity_check() == ["ok"]
        assert sorted(_queue(store)) == sorted(accepted)


def test_sqlite_full_mid_enqueue_keeps_the_queue_intact_and_it_goes_on_once_space_is_freed(
    tiny_disk: Path, keypair: tuple[bytes, bytes], make_enrolment: Callable[..., Enrolment]
) -> None:
    data = tiny_disk / "data"
    with open_store(database_path(data), min_free_mb=0) as store:  # no reserve: hit the wall
        store.save_enrolment(make_enrolment(keypair[1]), now=NOW)
        before = [_submit(store, n) for n in range(5)]
        sealed_before = _queue(store)
        filler = fill_up(tiny_disk, leave_bytes=150_000)
        accepted = list(before)
        with pytest.raises(StorageFull, match="disk is full") as caught:
            for n in range(5, 200):
                accepted.append(_submit(store, n))
        assert str(data) in str(caught.value)
        assert isinstance(caught.value, StoreError)
        assert store.integrity_check() == ["ok"]
        queue = _queue(store)
        assert sorted(queue) == sorted(accepted)  # nothing half-written, nothing lost
        assert all(queue[r] == sealed_before[r] for r in before)

        free_up(filler)
        accepted.append(_submit(store, 999))
        assert sorted(_queue(store)) == sorted(accepted)
        assert store.counts()["pending"] == len(accepted)
    with open_store(database_path(data), min_free_mb=0) as again:  # and it reopens sound
        assert again.integrity_check() == ["ok"]
        assert sorted(_queue(again)) == sorted(accepted)


def test_a_store_that_cannot_open_on_a_full_disk_says_full_not_damaged(
    tiny_disk: Path, keypair: tuple[bytes, bytes], make_enrolment: Callable[..., Enrolment]
) -> None:
    data = tiny_disk / "data"
    with open_store(database_path(data), min_free_mb=0) as store:
        store.save_enrolment(make_enrolment(keypair[1]), now=NOW)
        accepted = [_submit(store, n) for n in range(3)]
    filler = fill_up(tiny_disk, leave_bytes=0)
    with pytest.raises(StorageFull) as caught:  # SQLite cannot create its -wal / -shm files
        open_store(database_path(data), min_free_mb=0)
    message = str(caught.value)
    assert "full" in message and "do not move" in message and str(data) in message
    assert "damaged or not a Tongban database" not in message  # the advice to move it aside
    free_up(filler)
    with open_store(database_path(data), min_free_mb=0) as store:
        assert store.integrity_check() == ["ok"] and sorted(_queue(store)) == sorted(accepted)
