"""The sync engine's decisions, against a real store and a scripted platform.

The end-to-end tests (tests/e2e) run the engine against the real platform through a fault
proxy; these cover answers the real platform rarely gives: a whole batch refused, an
answer without a case number, a refused credential during an attachment upload.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from sync import protocol
from sync.client import Answer, CentralClient, PermanentError, RetryableError
from sync.engine import SyncOptions, run_once
from sync.enrolment import Enrolment
from sync.outbox import ACCEPTED, DEAD, PENDING
from sync.sealing import generate_keypair
from sync.store import Store, open_store

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


class ScriptedPlatform(CentralClient):
    """A client whose answers come from Python, recording every batch it was sent."""

    def __init__(self) -> None:
        super().__init__("http://127.0.0.1:9", token="t")
        self.batches: list[list[str]] = []
        self.refuse_batches_with: set[str] = set()  # 413 for any batch holding these ids
        self.batch_error: Exception | None = None
        self.no_case_for: set[str] = set()
        self.attachment_error: Exception | None = None
        self.uploaded: dict[str, bytes] = {}
        self.cases = 0

    def push_batch(self, items: list[protocol.SubmissionItem]) -> protocol.BatchResponse:
        ids = [i.submission_id for i in items]
        self.batches.append(ids)
        if self.batch_error is not None:
            raise self.batch_error
        if self.refuse_batches_with & set(ids):
            raise PermanentError("HTTP 413 Payload Too Large: too big", status=413)
        results = []
        for item in items:
            self.cases += 1
            case_no = None if item.submission_id in self.no_case_for else f"C{self.cases:05d}"
            results.append(protocol.ItemResult(
                submission_id=item.submission_id, status="accepted", case_no=case_no
            ))
        return protocol.BatchResponse(results=results)

    def status_changes(self, since: int, limit: int = 500) -> protocol.StatusPage:
        return protocol.StatusPage(changes=[], next_cursor=since, has_more=False)

    def request(self, method: str, path: str, **kwargs: Any) -> Answer:
        if self.attachment_error is not None:
            raise self.attachment_error
        sha = path.rsplit("/", 1)[1]
        if method == "PUT":
            self.uploaded[sha] = kwargs["data"]
        done = sha in self.uploaded
        body = protocol.AttachmentStatus(
            sha256=sha, complete=done, received=len(self.uploaded.get(sha, b"")), length=None
        ).model_dump_json().encode()
        return Answer(status=200, headers={}, body=body)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = open_store(tmp_path / "tongban.db")
    signing = Ed25519PrivateKey.generate().public_key().public_bytes(
        Encoding.Raw, PublicFormat.Raw
    )
    store.save_enrolment(
        Enrolment(
            device_id="dev-1", device_code="K01", site_code="SZ01", token="secret",
            sealing_public_key=generate_keypair()[1], catalog_signing_key=signing,
            central_url="http://127.0.0.1:9", enrolled_at=NOW,
        ),
        now=NOW,
    )
    try:
        yield store
    finally:
        store.close()


def enqueue(store: Store, n: int, *, attachment: bool = False) -> list[str]:
    ids = []
    for i in range(n):
        files: list[Any] = []
        answers: dict[str, Any] = {"name": f"张{i}"}
        if attachment:
            content = f"scan {i}".encode()
            files = [(content, "image/png", "scan.png")]
            import hashlib

            answers["scan"] = {"sha256": hashlib.sha256(content).hexdigest(),
                               "size": len(content), "mime": "image/png", "name": "scan.png"}
        ids.append(store.enqueue("svc", "1", answers, attachments=files, now=NOW).submission_id)
    return ids


def sync(store: Store, platform: ScriptedPlatform, **options: Any) -> Any:
    now = options.pop("now", NOW)
    return run_once(store, platform, now=now, options=SyncOptions(**options),
                    rng=random.Random(1))


def states(store: Store) -> dict[str, str]:
    return {e.submission_id: e.state for e in store.list_queue()}


def test_a_batch_refused_as_a_whole_is_split_until_the_bad_item_is_alone(
    store: Store,
) -> None:
    ids = enqueue(store, 7)
    platform = ScriptedPlatform()
    platform.refuse_batches_with = {ids[4]}
    report = sync(store, platform, batch_size=7)
    assert states(store) == {i: (DEAD if i == ids[4] else ACCEPTED) for i in ids}
    assert report.pushed == 6 and report.newly_dead == 1
    assert "413" in (store.find(ids[4]).last_error or "")
    answered = [i for batch in platform.batches if ids[4] not in batch for i in batch]
    assert sorted(answered) == sorted(set(ids) - {ids[4]})  # each good item stored once
    assert [ids[4]] in platform.batches
    assert len(platform.batches) <= 1 + 2 * 3  # halving: logarithmic, not one per item


def test_an_accept_without_case_number_is_retried_not_trusted(store: Store) -> None:
    ids = enqueue(store, 2)
    platform = ScriptedPlatform()
    platform.no_case_for = {ids[0]}
    report = sync(store, platform)
    assert states(store) == {ids[0]: PENDING, ids[1]: ACCEPTED}
    assert report.retried == 1
    platform.no_case_for = set()
    sync(store, platform, now=NOW + timedelta(hours=1))
    assert states(store) == {ids[0]: ACCEPTED, ids[1]: ACCEPTED}


def test_accepted_items_are_never_sent_again(store: Store) -> None:
    first = enqueue(store, 3)
    platform = ScriptedPlatform()
    sync(store, platform)
    later = enqueue(store, 2)
    sync(store, platform, now=NOW + timedelta(minutes=1))
    sync(store, platform, now=NOW + timedelta(minutes=2))
    sent = [i for batch in platform.batches for i in batch]
    assert sorted(sent) == sorted(first + later)


def test_network_failure_puts_every_claimed_item_back_with_backoff(store: Store) -> None:
    enqueue(store, 5)
    platform = ScriptedPlatform()
    platform.batch_error = RetryableError("network error: connection reset")
    report = sync(store, platform, batch_size=2)
    assert report.stopped == "network" and report.pushed == 0
    assert len(platform.batches) == 1  # the cycle stopped at the first failure
    entries = store.list_queue()
    assert all(e.state == PENDING for e in entries)  # none left "sending"
    tried = [e for e in entries if e.submission_id in platform.batches[0]]
    assert all(e.next_attempt_at >= NOW + timedelta(seconds=1) for e in tried)
    assert all("connection reset" in (e.last_error or "") for e in tried)


def test_refused_credential_during_upload_keeps_items_pending(store: Store) -> None:
    enqueue(store, 2, attachment=True)
    platform = ScriptedPlatform()
    platform.attachment_error = PermanentError("HTTP 403 Forbidden: revoked", status=403)
    report = sync(store, platform)
    assert report.stopped == "auth" and platform.batches == []
    assert set(states(store).values()) == {PENDING}


def test_attachments_are_uploaded_once_before_their_batch(store: Store) -> None:
    enqueue(store, 3, attachment=True)
    platform = ScriptedPlatform()
    report = sync(store, platform)
    assert report.pushed == 3 and report.attachments_uploaded == 3
    assert len(platform.uploaded) == 3
    assert all(a.uploaded for e in store.list_queue() for a in e.attachments)


def test_a_busy_lock_does_nothing(store: Store) -> None:
    enqueue(store, 1)
    platform = ScriptedPlatform()
    with store.sync_lock():
        report = sync(store, platform)
    assert report.busy and platform.batches == [] and report.pending == 1


def test_items_left_sending_by_a_crashed_worker_are_sent_at_once(store: Store) -> None:
    ids = enqueue(store, 2)
    store.claim_batch(10, NOW)  # a worker claimed them, then died
    report = sync(store, ScriptedPlatform(), now=NOW + timedelta(seconds=5))
    assert report.pushed == 2 and set(states(store)) == set(ids)


def test_a_refusal_that_is_not_about_the_items_keeps_them_all(store: Store) -> None:
    ids = enqueue(store, 4)
    platform = ScriptedPlatform()
    platform.batch_error = PermanentError("HTTP 404 Not Found", status=404)  # wrong address
    report = sync(store, platform, batch_size=2)
    assert report.stopped == "refused" and report.dead == 0
    assert len(platform.batches) == 1
    assert states(store) == dict.fromkeys(ids, PENDING)
