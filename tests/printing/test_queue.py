"""The print queue: a failed receipt keeps its reason, is retried, and staff can reprint it.

Printing never touches the submission: it stays committed and queued for sync whatever
the printer does.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from catalog import DEFAULT_CATALOG_DIR
from forms import load_catalog
from printing import ROLL_80MM, Bilingual, PrintError
from printing.compose import receipt_for_submission
from printing.layout import Document
from printing.pdf_folder import PdfFolderPrinter
from printing.queue import FAILED, PRINTED, REPLACED, PrintQueue
from sync.store import Store
from tests.printing.samples import CST, FULL_ID, HALL, pdf_text

T0 = datetime(2026, 11, 23, 2, 30, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


class Exploding:
    """A printer with a bug in it."""

    name = "exploding"
    kind = "pdf"
    paper = ROLL_80MM

    def describe(self) -> str:
        return "nowhere"

    def print_document(self, doc: Document, *, job_name: str) -> str:
        raise ZeroDivisionError("bug")

    def status(self) -> object:  # pragma: no cover - not used
        raise AssertionError


def submit(store: Store) -> str:
    result = store.enqueue(
        "residence-permit", "1.0.0", {"name": "张小三", "id_number": FULL_ID, "mobile": "13800138000"},
        service_name={"zh_CN": "居住证申领", "en": "Residence Permit Application"}, now=T0,
    )
    return result.receipt_no


@pytest.fixture
def setup(store: Store, tmp_path: Path) -> tuple[PrintQueue, Clock, str, Path]:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the printer's folder should be")
    good = tmp_path / "receipts"
    printers = {
        "broken": PdfFolderPrinter(blocker / "inside", paper=ROLL_80MM, name="broken"),
        "pdf": PdfFolderPrinter(good, paper=ROLL_80MM, name="pdf"),
        "exploding": Exploding(),
    }
    clock = Clock()
    return PrintQueue(store, printers, clock=clock), clock, submit(store), good


def receipt_for(store: Store, receipt_no: str):
    entry = store.find(receipt_no)
    service = load_catalog(DEFAULT_CATALOG_DIR).get(entry.service_id)
    return receipt_for_submission(entry.receipt_no, entry.summary, hall_name=HALL, service=service, local_zone=CST)


def test_receipt_is_built_from_the_masked_summary_and_the_service_guide(store: Store) -> None:
    receipt_no = submit(store)
    data = receipt_for(store, receipt_no)
    assert data.applicant_name == "张*三" and data.id_number == "110105********002X"
    assert data.service_name == Bilingual("居住证申领", "Residence Permit Application")
    assert (data.legal_working_days, data.promised_working_days) == (15, 10)
    assert data.submitted_at.utcoffset() == timedelta(hours=8)
    # Monday 23 Nov 2026 + 10 working days (no holiday in between) = Monday 7 Dec
    assert data.expected_completion == datetime(2026, 12, 7).date()
    assert [m.zh for m in data.materials_to_bring] == ["居民身份证（原件 1 份）"]


def test_failed_print_keeps_its_reason_is_retried_then_staff_reprint_it(
    setup: tuple[PrintQueue, Clock, str, Path], store: Store, tmp_path: Path
) -> None:
    queue, clock, receipt_no, good = setup
    job = queue.print_receipt(receipt_for(store, receipt_no), printer="broken")

    assert job.state == FAILED and job.attempts == 1
    assert "cannot write the PDF" in (job.last_error or "")
    assert job.next_attempt_at == T0 + timedelta(seconds=30) and not job.needs_staff
    assert store.find(receipt_no).state == "pending"  # the submission is untouched, still queued for sync

    assert queue.retry_due() == []  # not due yet
    for step in (timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10)):
        clock.now += step
        [job] = queue.retry_due()
        assert job.state == FAILED
    assert job.attempts == 4 and job.needs_staff and job.next_attempt_at is None
    assert [f.id for f in queue.failed()] == [job.id]

    reprint = queue.reprint(receipt_no, actor="staff", printer="pdf")

    assert reprint.state == PRINTED and reprint.reprint_of == job.id and reprint.requested_by == "staff"
    assert queue.get(job.id).state == REPLACED and queue.failed() == []
    pdf = Path(reprint.output or "")
    assert pdf.is_file() and pdf.is_relative_to(good)
    text = pdf_text(pdf)
    assert receipt_no in "".join(text.split()) and "补打" in text and "居住证申领" in text
    assert "110105********002X" in text and FULL_ID not in "".join(text.split())
    actions = [a.action for a in store.audit_entries()]
    assert "print-failed" in actions and "reprint" in actions
    assert store.find(receipt_no).state == "pending"


def test_a_reprint_of_a_printed_receipt_is_the_same_receipt_again(
    setup: tuple[PrintQueue, Clock, str, Path], store: Store
) -> None:
    queue, _, receipt_no, _ = setup
    first = queue.print_receipt(receipt_for(store, receipt_no), printer="pdf")
    again = queue.reprint(first.id)
    assert first.state == again.state == PRINTED
    assert queue.get(first.id).state == PRINTED  # a printed original stays printed
    assert queue.receipt_data(again.id) == queue.receipt_data(first.id)
    assert "补打" in pdf_text(Path(again.output or "")) and "补打" not in pdf_text(Path(first.output or ""))


def test_a_bug_in_a_printer_costs_the_receipt_never_the_kiosk(
    setup: tuple[PrintQueue, Clock, str, Path], store: Store
) -> None:
    queue, _, receipt_no, _ = setup
    job = queue.print_receipt(receipt_for(store, receipt_no), printer="exploding")
    assert job.state == FAILED and "ZeroDivisionError" in (job.last_error or "")


def test_unknown_printer_is_a_clear_failure(setup: tuple[PrintQueue, Clock, str, Path], store: Store) -> None:
    queue, _, receipt_no, _ = setup
    with pytest.raises(PrintError, match="no printer named 'laser'"):
        queue.print_receipt(receipt_for(store, receipt_no), printer="laser")


def test_a_job_interrupted_mid_print_waits_for_staff_instead_of_printing_twice(
    setup: tuple[PrintQueue, Clock, str, Path], store: Store
) -> None:
    queue, clock, receipt_no, _ = setup
    job = queue.submit_receipt(receipt_for(store, receipt_no), printer="pdf")
    with store.transaction() as db:  # the terminal lost power while the printer was busy
        db.execute("UPDATE print_jobs SET state = 'printing', attempts = 1 WHERE id = ?", (job.id,))

    assert queue.recover_interrupted() == 1

    job = queue.get(job.id)
    assert job.state == FAILED and job.needs_staff and "interrupted" in (job.last_error or "")
    clock.now += timedelta(days=1)
    assert queue.retry_due() == []
