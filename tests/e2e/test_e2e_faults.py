"""Faults between terminal and platform never lose, duplicate or block a submission.

A real ``kiosk-central serve`` runs on 127.0.0.1 and the fault proxy sits in front of it;
each terminal is a real SQLite store enrolled through the proxy. Whatever the proxy does
(resets before or after the server handled a request, 500s, 503s with Retry-After, slow,
truncated or corrupted answers), N submissions end up on the platform exactly N times.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest

from sync.engine import SyncReport, run_once
from sync.outbox import ACCEPTED, DEAD, PENDING
from sync.store import open_store
from sync.store_common import utc_now
from tests.e2e.conftest import Central, Terminal, on_central
from tests.support.central_process import central_cli
from tests.support.faultproxy import FAULT_MODES, FaultProxy, Mode

pytestmark = [
    pytest.mark.slow,
    # the platform's database: each test runs on SQLite and on PostgreSQL
    pytest.mark.parametrize("central_database", ["sqlite", "postgres"], indirect=True, scope="module"),
]


def assert_exactly_once(central: Central, terminal: Terminal, expected: int) -> None:
    """Every terminal submission is on the platform once, with the terminal's case no."""
    held = on_central(central, terminal)
    ids = Counter(s["submission_id"] for s in held)
    assert len(held) == expected, f"{len(held)} on central, expected {expected}"
    assert all(n == 1 for n in ids.values()), f"duplicated on central: {ids.most_common(3)}"
    receipts = Counter(s["receipt_no"] for s in held)
    assert all(n == 1 for n in receipts.values())
    queue = terminal.store.list_queue()
    assert {e.submission_id for e in queue} == set(ids)
    assert all(e.state == ACCEPTED for e in queue), Counter(e.state for e in queue)


@pytest.mark.parametrize("mode", FAULT_MODES, ids=[m.value for m in FAULT_MODES])
def test_every_fault_mode_still_delivers_each_submission_exactly_once(
    central: Central, proxy: FaultProxy, terminal: Terminal, mode: Mode
) -> None:
    n = 5
    for _ in range(n):
        terminal.submit()
    proxy.set_mode(mode, path_prefix="/v1/")
    # A read timeout shorter than the proxy's delay turns "slow" into a lost answer.
    faulted = terminal.sync(batch_size=2) if mode is not Mode.SLOW else _sync_with_timeout(
        terminal, read_timeout=0.5
    )
    if mode not in (Mode.SLOW, Mode.FLIP_BYTE):
        assert faulted.pushed == 0 and faulted.pending == n
        assert faulted.errors
    proxy.set_mode(Mode.PASS)
    reports = terminal.drain(batch_size=2)
    assert reports[-1].pending == 0
    assert sum(r.newly_dead for r in [faulted, *reports]) == 0
    assert_exactly_once(central, terminal, n)
    if mode is not Mode.FLIP_BYTE:  # a flipped byte may sit in an answer's case number
        cases = {s["submission_id"]: s["case_no"] for s in on_central(central, terminal)}
        assert all(e.case_no == cases[e.submission_id] for e in terminal.store.list_queue())


def _sync_with_timeout(terminal: Terminal, read_timeout: float) -> SyncReport:
    with terminal.client(read_timeout=read_timeout) as client:
        from sync.engine import SyncOptions

        return run_once(terminal.store, client, options=SyncOptions(ignore_backoff=True))


def test_lost_answer_is_resent_and_answered_duplicate(
    central: Central, proxy: FaultProxy, terminal: Terminal
) -> None:
    for _ in range(3):
        terminal.submit()
    proxy.set_mode(Mode.RESET_AFTER, path_prefix="/v1/submissions")
    lost = terminal.sync()
    assert lost.pushed == 0 and lost.stopped == "network"
    assert len(on_central(central, terminal)) == 3  # the platform did store them
    proxy.set_mode(Mode.PASS)
    resent = terminal.sync()
    assert resent.duplicates == 3 and resent.accepted == 0
    assert_exactly_once(central, terminal, 3)


def test_random_mix_of_faults_on_every_request(
    central: Central, proxy: FaultProxy, terminal: Terminal
) -> None:
    n = 12
    for _ in range(n):
        terminal.submit()
    quick_faults = [m for m in FAULT_MODES if m is not Mode.SLOW]
    proxy.set_random([*quick_faults, Mode.SLOW], fault_rate=0.3, seed=11, path_prefix="/v1/")
    reports = terminal.drain(max_cycles=150, batch_size=3)
    proxy.set_mode(Mode.PASS)
    reports += terminal.drain(batch_size=3)
    assert reports[-1].pending == 0
    assert proxy.count() > proxy.count(Mode.PASS) > 0  # faults really happened
    assert_exactly_once(central, terminal, n)


def test_retry_after_from_a_503_is_honoured(
    central: Central, proxy: FaultProxy, terminal: Terminal
) -> None:
    for _ in range(2):
        terminal.submit()
    proxy.retry_after = "30"
    proxy.set_mode(Mode.HTTP_503, path_prefix="/v1/submissions")
    start = utc_now()
    first = terminal.sync(now=start, ignore_backoff=False)
    assert first.retried == 2 and first.stopped == "network"
    for entry in terminal.store.list_queue():
        assert entry.state == PENDING
        assert entry.next_attempt_at >= start + timedelta(seconds=30)
        assert "503" in (entry.last_error or "")
    proxy.set_mode(Mode.PASS)
    early = terminal.sync(now=start + timedelta(seconds=10), ignore_backoff=False)
    assert early.pushed == 0 and early.pending == 2
    due = terminal.sync(now=start + timedelta(seconds=31), ignore_backoff=False)
    assert due.pushed == 2
    assert_exactly_once(central, terminal, 2)


def test_backoff_grows_with_each_failed_attempt(
    proxy: FaultProxy, terminal: Terminal
) -> None:
    terminal.submit()
    proxy.set_mode(Mode.HTTP_500, path_prefix="/v1/submissions")
    now = utc_now()
    waits = []
    for _ in range(6):
        report = terminal.sync(now=now, ignore_backoff=False)
        assert report.retried == 1
        entry = terminal.store.list_queue()[0]
        waits.append((entry.next_attempt_at - now).total_seconds())
        now = entry.next_attempt_at
    ceilings = [min(300, 2 * 2**i) for i in range(6)]
    assert all(1 <= w <= c + 0.001 for w, c in zip(waits, ceilings, strict=True))
    assert terminal.store.list_queue()[0].attempts == 6


def test_poison_item_goes_to_dead_letters_and_the_rest_are_delivered(
    central: Central, terminal: Terminal
) -> None:
    good_before = [terminal.submit() for _ in range(2)]
    definition = terminal.catalog.get("residence-permit")
    poison = terminal.store.enqueue(
        "residence-permit", definition.version, {"name": 12345, "unknown_field": True}
    )
    good_after = [terminal.submit() for _ in range(3)]
    report = terminal.sync(batch_size=10)
    assert report.pushed == 5 and report.newly_dead == 1 and report.dead == 1
    assert report.pending == 0
    entry = terminal.store.find(poison.submission_id)
    assert entry.state == DEAD
    assert "answers_invalid" in (entry.last_error or "")
    held = {s["receipt_no"] for s in on_central(central, terminal)}
    assert held == {s["receipt_no"] for s in good_before + good_after}
    # the dead letter is not sent again by later cycles
    again = terminal.sync()
    assert again.pushed == 0 and again.newly_dead == 0 and again.dead == 1


def test_refused_credential_stops_the_cycle_and_keeps_every_item(
    central: Central, terminal: Terminal
) -> None:
    for _ in range(3):
        terminal.submit()
    device_id = terminal.store.require_enrolment().device_id
    done = central_cli(central.data_dir, "devices", "revoke", device_id)
    assert done.returncode == 0, done.stderr
    report = terminal.sync()
    assert report.stopped == "auth" and report.pushed == 0
    assert any("refused this terminal" in e for e in report.errors)
    assert [e.state for e in terminal.store.list_queue()] == [PENDING] * 3
    assert report.dead == 0


def test_two_sync_workers_at_once_never_send_an_item_twice(
    central: Central, proxy: FaultProxy, terminal: Terminal
) -> None:
    n = 8
    for _ in range(n):
        terminal.submit()
    # Slow batch answers keep the first worker busy while the second one starts.
    proxy.slow_seconds = 1.0
    proxy.set_mode(Mode.SLOW, path_prefix="/v1/submissions")
    start = threading.Barrier(2)
    reports: list[SyncReport] = []
    lock = threading.Lock()

    def worker() -> None:
        store = open_store(terminal.store.path)  # its own connection, like another process
        try:
            with terminal.client() as client:
                start.wait(timeout=10)
                from sync.engine import SyncOptions

                report = run_once(store, client, options=SyncOptions(batch_size=2))
            with lock:
                reports.append(report)
        finally:
            store.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(reports) == 2
    assert sorted(r.busy for r in reports) == [False, True]
    assert sum(r.pushed for r in reports) == n
    assert sum(r.duplicates for r in reports) == 0
    assert proxy.count(path_prefix="/v1/submissions") == n // 2  # every batch sent once
    assert_exactly_once(central, terminal, n)


def test_platform_killed_after_an_attachments_last_byte_gets_it_again_and_drains(
    central: Central, proxy: FaultProxy, terminal: Terminal
) -> None:
    """SIGKILL of the platform between storing an upload's last byte and verifying it.

    That leaves, on the platform, the whole sealed file as an unfinished upload (its status
    says ``received == length`` but not complete). The terminal used to resume at the end,
    send nothing and fail every cycle; it must start that upload over and deliver.
    """
    from central.sqlite_store import DB_FILE, SQLiteStore
    from tests.support.central_process import start_central_process, stop_central_process

    terminal.submit()
    entry = terminal.store.list_queue()[0]
    device_id = terminal.store.require_enrolment().device_id
    sha = entry.attachments[0].sha256
    sealed = terminal.store.sealed_attachment(sha)
    stop_central_process(central.proc)  # the platform is down; put on disk what a kill leaves
    part = central.data_dir / "uploads" / device_id / f"{sha}.part"
    part.parent.mkdir(parents=True, exist_ok=True)
    part.write_bytes(sealed)
    SQLiteStore(central.data_dir / DB_FILE).set_upload_length(device_id, sha, len(sealed))
    central.url, central.proc = start_central_process(central.data_dir)
    proxy.set_upstream(central.url)

    report = terminal.sync()
    assert report.errors == [] and report.pushed == 1
    assert_exactly_once(central, terminal, 1)
    assert sha in central.show(entry.receipt_no)["attachments"]
