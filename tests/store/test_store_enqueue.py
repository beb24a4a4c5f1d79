"""Enqueue: one transaction makes a sealed, queued submission with its receipt number."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sync.enrolment import Enrolment, NotEnrolled
from sync.outbox import AttachmentMismatch
from sync.receipt import ReceiptNumber
from sync.sealing import SealError, open_sealed
from sync.store import Store, database_path, open_store
from sync.submission import Attachment

NOW = datetime(2026, 11, 23, 2, 30, tzinfo=UTC)
SERVICE_NAME = {"zh_CN": "居住证申领", "en": "Residence Permit Application"}


def _answers(scan: Attachment, signature: Attachment) -> dict:
    return {
        "name": "欧阳小明",
        "id_number": "11010519491231002X",
        "mobile": "13800138000",
        "residence_proof": [scan.ref()],
        "signature": signature.ref(),
    }


def test_an_unenrolled_terminal_refuses_and_says_how_to_enrol(store: Store) -> None:
    with pytest.raises(NotEnrolled) as caught:
        store.enqueue("residence-permit", "1.0.0", {"name": "张三"}, now=NOW)
    assert str(caught.value) == (
        "the terminal is not enrolled; run `kiosk enroll --central URL --code CODE`"
    )
    assert store.counts() == {"pending": 0, "sending": 0, "accepted": 0, "dead": 0, "cancelled": 0}
    assert store.db.execute("SELECT COUNT(*) FROM receipt_counters").fetchone()[0] == 0


def test_enqueue_writes_sealed_submission_attachments_outbox_and_receipt(
    enrolled: Store, keypair: tuple[bytes, bytes]
) -> None:
    private, _ = keypair
    scan = Attachment(b"\xff\xd8 scan of a tenancy contract", "image/jpeg", "租赁合同.jpg")
    signature = Attachment(b"\x89PNG signature", "image/png")
    answers = _answers(scan, signature)

    result = enrolled.enqueue(
        "residence-permit",
        "1.0.0",
        answers,
        attachments=[scan, (signature.content, "image/png", "")],
        service_name=SERVICE_NAME,
        now=NOW,
    )

    receipt = ReceiptNumber.parse(result.receipt_no)
    assert (receipt.site_code, receipt.device_code, receipt.sequence) == ("SZ01", "K7M", 1)
    assert receipt.day == NOW.astimezone().date()
    assert result.summary.applicant_name == "欧**明"
    assert result.summary.id_number == "110105********002X"
    assert result.summary.mobile == "138****8000"

    [item] = enrolled.claim_batch(10, NOW)
    assert item.submission_id == result.submission_id
    assert item.receipt_no == result.receipt_no
    assert (item.service_id, item.form_version, item.is_test) == ("residence-permit", "1.0.0", False)
    assert item.created_at == NOW
    # The central platform opens the payload with the submission id as context...
    opened = open_sealed(private, item.sealed_payload, context=item.submission_id.encode())
    assert json.loads(opened) == {"answers": answers}
    assert opened == json.dumps({"answers": answers}, ensure_ascii=False, sort_keys=True).encode()
    # ...and only with it: the box cannot be moved to another submission.
    with pytest.raises(SealError):
        open_sealed(private, item.sealed_payload, context=b"another-submission")
    # Attachments are sealed with their plaintext hash as context.
    assert sorted(item.attachment_sha256s) == sorted([scan.sha256, signature.sha256])
    for sha256, content in ((scan.sha256, scan.content), (signature.sha256, signature.content)):
        sealed = enrolled.sealed_attachment(sha256)
        assert open_sealed(private, sealed, context=sha256.encode("ascii")) == content
        assert hashlib.sha256(content).hexdigest() == sha256


def test_the_terminal_cannot_read_back_what_it_sealed(
    enrolled: Store, keypair: tuple[bytes, bytes]
) -> None:
    from sync.sealing import generate_keypair

    enrolled.enqueue("residence-permit", "1.0.0", {"name": "张三"}, now=NOW)
    [item] = enrolled.claim_batch(1, NOW)
    someone_else, _ = generate_keypair()
    with pytest.raises(SealError):
        open_sealed(someone_else, item.sealed_payload, context=item.submission_id.encode())


def test_receipt_sequence_counts_per_local_day_and_survives_a_clock_going_back(
    enrolled: Store,
) -> None:
    day1 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    day2 = day1 + timedelta(days=1)
    first = [enrolled.enqueue("s", "1", {}, now=day1).receipt_no for _ in range(3)]
    second = enrolled.enqueue("s", "1", {}, now=day2).receipt_no
    back = enrolled.enqueue("s", "1", {}, now=day1 + timedelta(minutes=5)).receipt_no
    assert [ReceiptNumber.parse(r).sequence for r in first] == [1, 2, 3]
    assert ReceiptNumber.parse(second).sequence == 1
    assert ReceiptNumber.parse(back).sequence == 4  # never 1 again: no receipt used twice
    assert len({*first, second, back}) == 5


def test_a_failure_inside_the_transaction_leaves_nothing_behind(
    enrolled: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    enrolled.enqueue("s", "1", {}, now=NOW)
    import sync.outbox

    def broken_audit(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(sync.outbox, "write_audit", broken_audit)
    scan = Attachment(b"scan", "image/jpeg")
    with pytest.raises(RuntimeError):
        enrolled.enqueue("s", "1", {"f": [scan.ref()]}, attachments=[scan], now=NOW)
    monkeypatch.undo()

    for table, expected in (("submissions", 1), ("outbox", 1), ("attachments", 0)):
        assert enrolled.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == expected
    # the receipt number of the failed attempt was not used up either
    assert ReceiptNumber.parse(enrolled.enqueue("s", "1", {}, now=NOW).receipt_no).sequence == 2


def test_attachment_references_and_files_must_match(enrolled: Store) -> None:
    scan = Attachment(b"scan", "image/jpeg")
    other = Attachment(b"other", "image/jpeg")
    with pytest.raises(AttachmentMismatch, match="content was not given"):
        enrolled.enqueue("s", "1", {"f": [scan.ref()]}, now=NOW)
    with pytest.raises(AttachmentMismatch, match="no answer refers to it"):
        enrolled.enqueue("s", "1", {"f": [scan.ref()]}, attachments=[scan, other], now=NOW)
    wrong_size = {**scan.ref(), "size": 999}
    with pytest.raises(AttachmentMismatch, match="999"):
        enrolled.enqueue("s", "1", {"f": [wrong_size]}, attachments=[scan], now=NOW)
    assert enrolled.counts()["pending"] == 0


def test_the_same_file_twice_is_stored_once(enrolled: Store) -> None:
    scan = Attachment(b"scan", "image/jpeg", "page.jpg")
    enrolled.enqueue(
        "s", "1", {"a": [scan.ref()], "b": [scan.ref()]}, attachments=[scan, scan], now=NOW
    )
    [item] = enrolled.claim_batch(1, NOW)
    assert item.attachment_sha256s == (scan.sha256,)


def test_test_submissions_are_marked(enrolled: Store) -> None:
    result = enrolled.enqueue("s", "1", {}, is_test=True, now=NOW)
    assert result.is_test
    assert enrolled.find(result.receipt_no).is_test
    [item] = enrolled.claim_batch(1, NOW)
    assert item.is_test


def test_naive_times_are_refused(enrolled: Store) -> None:
    with pytest.raises(ValueError, match="timezone"):
        enrolled.enqueue("s", "1", {}, now=datetime(2026, 11, 23, 10, 0))


def test_submission_ids_are_uuid7_in_time_order(enrolled: Store) -> None:
    ids = [enrolled.enqueue("s", "1", {}, now=NOW).submission_id for _ in range(20)]
    assert all(i[14] == "7" for i in ids)  # version nibble
    assert ids == sorted(ids)


def test_a_second_terminal_with_its_own_codes_never_makes_the_same_receipt(
    tmp_path: Path, keypair: tuple[bytes, bytes], make_enrolment: Callable[..., Enrolment]
) -> None:
    receipts: set[str] = set()
    for device in ("K7M", "P3Q"):
        with open_store(database_path(tmp_path / device)) as store:
            store.save_enrolment(make_enrolment(keypair[1], device=device), now=NOW)
            receipts.update(store.enqueue("s", "1", {}, now=NOW).receipt_no for _ in range(50))
    assert len(receipts) == 100


def test_the_enrolment_token_is_stored_but_never_logged_or_shown(
    store: Store,
    keypair: tuple[bytes, bytes],
    make_enrolment: Callable[..., Enrolment],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    enrolment = make_enrolment(keypair[1])
    store.save_enrolment(enrolment, now=NOW)
    store.enqueue("s", "1", {"name": "张三"}, now=NOW)
    assert store.enrolment() == enrolment
    assert enrolment.token not in repr(store.enrolment())
    assert enrolment.token not in caplog.text
    assert "张三" not in caplog.text


def test_issued_receipt_numbers_never_need_the_star_a_keypad_lacks(enrolled: Store) -> None:
    numbers = [ReceiptNumber.parse(enrolled.enqueue("s", "1", {}, now=NOW).receipt_no) for _ in range(80)]
    assert all(n.check != "*" for n in numbers)
    sequences = [n.sequence for n in numbers]
    assert sequences == sorted(set(sequences))  # strictly increasing, never reused
    assert sequences[-1] > 80  # some sequences were skipped because their check would be '*'
