"""The store under concurrent writers, on each database (SQLite and PostgreSQL).

A terminal pulls case status changes "after cursor N" and then asks from the last cursor
it saw: a change that becomes visible later with a smaller cursor would never reach it.
"""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from central.app import Platform
from central.store import NewSubmission
from tests.central.central_helpers import FakeTerminal

WRITERS = 6
BATCHES = 25
BATCH_SIZE = 4


def _batch(device_id: str, site_code: str) -> list[NewSubmission]:
    now = datetime.now(UTC)
    return [
        NewSubmission(
            submission_id=str(uuid.uuid4()), service_id="residence-permit", form_version="1.0.0",
            receipt_no=f"SZ01{uuid.uuid4().hex[:12].upper()}", device_id=device_id,
            site_code=site_code, created_at=now, received_at=now, is_test=True, answers={},
        )
        for _ in range(BATCH_SIZE)
    ]


def test_a_feed_reader_never_misses_a_change_while_batches_commit_concurrently(
    terminal: FakeTerminal, platform: Platform
) -> None:
    store = platform.store
    device = store.list_devices()[0]
    done = threading.Event()
    seen: list[int] = []

    def follow_the_feed() -> None:
        cursor = 0
        while True:
            finished = done.is_set()
            page = store.status_changes(cursor, 1000)
            seen.extend(c.cursor for c in page)
            cursor = max([cursor, *(c.cursor for c in page)])
            if finished and not page:
                return

    def write() -> None:
        for _ in range(BATCHES):
            store.insert_submissions(_batch(device.device_id, device.site_code))

    reader = threading.Thread(target=follow_the_feed)
    reader.start()
    try:
        with ThreadPoolExecutor(max_workers=WRITERS) as pool:
            for future in [pool.submit(write) for _ in range(WRITERS)]:
                future.result()
    finally:
        done.set()
        reader.join(timeout=60)

    everything = [c.cursor for c in store.status_changes(0, 100_000)]
    assert len(everything) == WRITERS * BATCHES * BATCH_SIZE
    missed = sorted(set(everything) - set(seen))
    assert missed == [], f"the feed reader never saw cursors {missed[:10]}"
    assert len(seen) == len(set(seen))  # and none twice


def test_case_and_receipt_numbers_stay_unique_under_concurrent_batches(
    terminal: FakeTerminal, platform: Platform
) -> None:
    store = platform.store
    device = store.list_devices()[0]
    batches = [_batch(device.device_id, device.site_code) for _ in range(40)]
    # every batch sent twice at once, as a terminal retrying after a lost answer would
    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(store.insert_submissions, batches + batches))

    created = [o.record for batch in outcomes for o in batch if o.created]
    assert len(created) == 40 * BATCH_SIZE
    records = store.list_submissions()
    assert len(records) == 40 * BATCH_SIZE
    assert len({r.case_no for r in records}) == len(records)
    assert len({r.receipt_no for r in records}) == len(records)
    for first, second in zip(outcomes[:40], outcomes[40:], strict=True):
        assert [o.record.case_no for o in first if o.record] == [o.record.case_no for o in second if o.record]
