"""The outbox as the sync engine uses it: claims, leases, results, dead letters."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync.enrolment import Enrolment
from sync.outbox import OutboxError, UnknownSubmission
from sync.store import CaseStatus, Store, database_path, open_store
from sync.submission import Attachment

NOW = datetime(2026, 11, 23, 2, 30, tzinfo=UTC)
LEASE = timedelta(minutes=5)


def _fill(store: Store, n: int, *, at: datetime = NOW) -> list[str]:
    return [store.enqueue("residence-permit", "1.0.0", {"i": i}, now=at).submission_id for i in range(n)]


def test_claim_marks_items_sending_oldest_first_and_counts_attempts(enrolled: Store) -> None:
    ids = _fill(enrolled, 5)
    batch = enrolled.claim_batch(3, NOW)
    assert [item.submission_id for item in batch] == ids[:3]
    assert all(item.attempts == 1 for item in batch)
    assert enrolled.counts() == {"pending": 2, "sending": 3, "accepted": 0, "dead": 0, "cancelled": 0}
    assert [item.submission_id for item in enrolled.claim_batch(10, NOW)] == ids[3:]
    assert enrolled.claim_batch(10, NOW) == []


def test_items_are_not_claimed_before_their_next_attempt(enrolled: Store) -> None:
    [sid] = _fill(enrolled, 1)
    enrolled.claim_batch(1, NOW)
    enrolled.mark_retry(sid, "HTTP 503", NOW + timedelta(seconds=30), now=NOW)
    assert enrolled.find(sid).last_error == "HTTP 503"
    assert enrolled.claim_batch(1, NOW + timedelta(seconds=29)) == []
    [again] = enrolled.claim_batch(1, NOW + timedelta(seconds=30))
    assert again.submission_id == sid
    assert again.attempts == 2


def test_a_crashed_workers_claim_expires_after_the_lease(enrolled: Store) -> None:
    [sid] = _fill(enrolled, 1)
    assert len(enrolled.claim_batch(1, NOW, lease=LEASE)) == 1
    # the worker dies here: nobody settles the item
    assert enrolled.claim_batch(1, NOW + LEASE - timedelta(seconds=1)) == []
    [reclaimed] = enrolled.claim_batch(1, NOW + LEASE, lease=LEASE)
    assert reclaimed.submission_id == sid
    assert reclaimed.attempts == 2


def test_release_claims_frees_a_crashed_workers_items_at_once(enrolled: Store) -> None:
    _fill(enrolled, 3)
    enrolled.claim_batch(3, NOW)
    assert enrolled.release_claims(NOW) == 3
    assert enrolled.counts()["pending"] == 3
    assert len(enrolled.claim_batch(3, NOW)) == 3


def test_accepted_is_final_and_keeps_the_first_case_number(enrolled: Store) -> None:
    [sid] = _fill(enrolled, 1)
    enrolled.claim_batch(1, NOW)
    assert enrolled.mark_accepted(sid, "CASE-1", now=NOW) is True
    assert enrolled.mark_accepted(sid, "CASE-2", now=NOW) is False
    assert enrolled.mark_retry(sid, "late timeout", NOW, now=NOW) is False
    assert enrolled.mark_dead(sid, "late rejection", now=NOW) is False
    entry = enrolled.find(sid)
    assert (entry.state, entry.case_no, entry.last_error) == ("accepted", "CASE-1", None)
    assert enrolled.find("CASE-1").submission_id == sid
    assert enrolled.claim_batch(1, NOW + timedelta(days=1)) == []


def test_a_dead_letter_is_not_sent_until_staff_retry_it_with_a_reason(enrolled: Store) -> None:
    poison, good = _fill(enrolled, 2)
    enrolled.claim_batch(2, NOW)
    enrolled.mark_dead(poison, "answers_invalid: id_number", now=NOW)
    enrolled.mark_accepted(good, "CASE-9", now=NOW)
    assert enrolled.counts() == {"pending": 0, "sending": 0, "accepted": 1, "dead": 1, "cancelled": 0}
    assert enrolled.claim_batch(10, NOW + timedelta(days=1)) == []
    dead = enrolled.list_queue(["dead"])
    assert [e.submission_id for e in dead] == [poison]
    assert dead[0].last_error == "answers_invalid: id_number"

    later = NOW + timedelta(hours=2)
    enrolled.retry_dead(poison, "service definition fixed on central", actor="cli", now=later)
    [item] = enrolled.claim_batch(10, later)
    assert item.submission_id == poison
    assert item.attempts == 1  # backoff starts afresh
    actions = [(a.action, a.actor, a.detail) for a in enrolled.audit_entries(poison)]
    assert ("dead", "system", "answers_invalid: id_number") in actions
    assert ("retry", "cli", "service definition fixed on central") in actions


def test_only_dead_letters_can_be_retried(enrolled: Store) -> None:
    [sid] = _fill(enrolled, 1)
    with pytest.raises(OutboxError, match="not a dead letter"):
        enrolled.retry_dead(sid, "why not")


def test_unknown_ids_are_reported(enrolled: Store) -> None:
    with pytest.raises(UnknownSubmission):
        enrolled.mark_accepted("01a20000-0000-7000-8000-000000000000", "C")
    with pytest.raises(UnknownSubmission):
        enrolled.find("SZ01-K7M-261123-99999-0")


def test_find_by_receipt_as_typed_by_id_prefix_and_by_case_number(enrolled: Store) -> None:
    result = enrolled.enqueue("s", "1", {}, now=NOW)
    typed = result.receipt_no.lower().replace("-", " ")
    assert enrolled.find(typed).submission_id == result.submission_id
    assert enrolled.find(result.submission_id[:13]).submission_id == result.submission_id
    assert enrolled.find(result.submission_id.upper()).submission_id == result.submission_id


def test_a_batch_of_results_is_recorded_in_one_transaction(enrolled: Store) -> None:
    ids = _fill(enrolled, 10)
    enrolled.claim_batch(10, NOW)
    with enrolled.transaction():
        for n, sid in enumerate(ids):
            enrolled.mark_accepted(sid, f"CASE-{n}", now=NOW)
    assert enrolled.counts()["accepted"] == 10


def test_a_failed_batch_transaction_changes_nothing(enrolled: Store) -> None:
    ids = _fill(enrolled, 3)
    enrolled.claim_batch(3, NOW)
    with pytest.raises(RuntimeError), enrolled.transaction():
        enrolled.mark_accepted(ids[0], "CASE-0", now=NOW)
        raise RuntimeError("connection lost while recording")
    assert enrolled.counts()["sending"] == 3


def test_attachments_are_marked_uploaded_and_skipped_afterwards(enrolled: Store) -> None:
    scan = Attachment(b"scan", "image/jpeg")
    enrolled.enqueue("s", "1", {"f": [scan.ref()]}, attachments=[scan], now=NOW)
    [item] = enrolled.claim_batch(1, NOW)
    assert [a.uploaded for a in item.attachments] == [False]
    enrolled.mark_attachment_uploaded(scan.sha256, now=NOW)
    enrolled.mark_retry(item.submission_id, "attachment_missing", NOW, now=NOW)
    [again] = enrolled.claim_batch(1, NOW)
    assert [a.uploaded for a in again.attachments] == [True]


def test_sealed_data_is_purged_after_acceptance_but_the_summary_stays(enrolled: Store) -> None:
    scan = Attachment(b"scan", "image/jpeg")
    result = enrolled.enqueue("s", "1", {"name": "张小三", "f": [scan.ref()]}, attachments=[scan], now=NOW)
    keep = _fill(enrolled, 1)[0]
    enrolled.claim_batch(2, NOW)
    enrolled.mark_accepted(result.submission_id, "CASE-1", now=NOW)
    assert enrolled.purge_sealed(NOW + timedelta(days=30), now=NOW + timedelta(days=31)) == 1
    entry = enrolled.find(result.receipt_no)
    assert entry.purged and entry.summary.applicant_name == "张*三"
    with pytest.raises(UnknownSubmission):
        enrolled.sealed_attachment(scan.sha256)
    assert not enrolled.find(keep).purged


def test_case_status_cache_keeps_the_newest_status(enrolled: Store) -> None:
    receipt_no = enrolled.enqueue("s", "1", {}, now=NOW).receipt_no
    enrolled.save_case_statuses(
        [
            CaseStatus(receipt_no, "CASE-1", "in_review", NOW + timedelta(hours=2)),
            CaseStatus(receipt_no, "CASE-1", "received", NOW + timedelta(hours=1)),
        ]
    )
    status = enrolled.case_status(receipt_no.lower())
    assert status is not None and status.status == "in_review"
    assert enrolled.case_status("CASE-1") == status
    assert enrolled.case_status("nothing") is None


# --- two claimers never get the same item -----------------------------------------------------


_CLAIMER = """
import json, sys, time
from datetime import datetime, UTC
from pathlib import Path
from sync.store import open_store
store = open_store(Path(sys.argv[1]))
go = Path(sys.argv[2])
print("ready", flush=True)
while not go.exists():
    time.sleep(0.001)
now = datetime.fromisoformat(sys.argv[3])
claimed = []
while True:
    batch = store.claim_batch(3, now)
    if not batch:
        break
    claimed.extend(item.submission_id for item in batch)
    time.sleep(0.003)  # "sending" the batch, while the other claimers go on
print(json.dumps(claimed))
"""


def test_concurrent_claimers_in_separate_processes_never_share_an_item(
    enrolled: Store, data_dir: Path, tmp_path: Path
) -> None:
    with enrolled.transaction():
        ids = set(_fill(enrolled, 600))
    go = tmp_path / "go"
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", _CLAIMER, str(database_path(data_dir)), str(go), NOW.isoformat()],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    for w in workers:
        assert w.stdout is not None and w.stdout.readline() == "ready\n"
    go.touch()  # start them together
    results = []
    for w in workers:
        stdout, stderr = w.communicate(timeout=120)
        assert w.returncode == 0, stderr
        results.append(json.loads(stdout))
    claimed = [sid for result in results for sid in result]
    assert len(claimed) == len(set(claimed)), "an item was handed to two claimers"
    assert set(claimed) == ids
    assert sum(1 for r in results if r) >= 2, "the claimers did not actually overlap"


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(["claim", "accept", "retry", "dead", "expire"]), max_size=30))
def test_any_sequence_of_operations_keeps_every_item_in_exactly_one_state(
    tmp_path_factory: pytest.TempPathFactory,
    keypair: tuple[bytes, bytes],
    make_enrolment: Callable[..., Enrolment],
    ops: list[str],
) -> None:
    with open_store(database_path(tmp_path_factory.mktemp("ops"))) as store:
        store.save_enrolment(make_enrolment(keypair[1]), now=NOW)
        ids = _fill(store, 4)
        clock, held = NOW, []
        for op in ops:
            if op == "claim":
                held += [item.submission_id for item in store.claim_batch(2, clock, lease=LEASE)]
            elif op == "expire":
                clock += LEASE
            elif held:
                sid = held.pop(0)
                if op == "accept":
                    store.mark_accepted(sid, f"C-{sid}", now=clock)
                elif op == "retry":
                    store.mark_retry(sid, "timeout", clock, now=clock)
                else:
                    store.mark_dead(sid, "rejected", now=clock)
        counts = store.counts()
        assert sum(counts.values()) == len(ids)
        states = {e.submission_id: e.state for e in store.list_queue()}
        assert set(states) == set(ids)
        for e in store.list_queue(["accepted"]):
            assert e.case_no == f"C-{e.submission_id}"


def test_one_store_shared_by_the_ui_thread_and_a_worker_thread(enrolled: Store) -> None:
    import threading

    errors: list[BaseException] = []
    claimed: list[str] = []
    done = threading.Event()

    def worker() -> None:
        try:
            while not done.is_set() or enrolled.counts()["pending"]:
                for item in enrolled.claim_batch(5, NOW + timedelta(seconds=1)):
                    claimed.append(item.submission_id)
                    enrolled.mark_accepted(item.submission_id, f"C-{item.submission_id}", now=NOW)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    thread = threading.Thread(target=worker)
    thread.start()
    ids = _fill(enrolled, 100)
    done.set()
    thread.join(timeout=60)
    assert errors == []
    assert sorted(claimed) == sorted(ids)
    assert enrolled.counts()["accepted"] == 100
