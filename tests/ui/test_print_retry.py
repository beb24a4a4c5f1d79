"""A receipt that failed while the printer was out comes out by itself once the printer is back.

The printer is the PDF-folder backend (the kiosk's default) with its folder replaced by a
plain file, so every print fails with the backend's real error; then the folder is back.
"""

from __future__ import annotations

import random
import subprocess
from datetime import timedelta

from kiosk.ui.backend import PrintOutcome
from printing import Bilingual
from printing.compose import receipt_for_submission
from printing.queue import FAILED, PRINTED, PrintQueue
from tests.support.answers import valid_answers


def commit(kiosk) -> object:
    """One residence-permit submission committed by the kiosk's backend (sealed, queued, receipt number)."""
    backend = kiosk.state.backend
    service = kiosk.state.catalog.get("residence-permit")
    payload, files = valid_answers(kiosk.state.catalog, "residence-permit", random.Random(7))
    return backend.submit(service, payload, files, is_test=True), service


def test_a_receipt_that_failed_is_printed_when_the_printer_is_back(make_kiosk) -> None:
    kiosk = make_kiosk()
    backend = kiosk.state.backend
    backend.print_retry_delays = (timedelta(seconds=1),) * 3
    folder = kiosk.data_dir / "receipts"
    folder.write_text("not a folder\n", "utf-8")  # the printer is out
    submission, service = commit(kiosk)

    outcome = backend.print_receipt(submission, service, set(), ("大厅", "Hall"))
    assert outcome == PrintOutcome(False, error=outcome.error) and "check the folder" in outcome.error
    queue = PrintQueue(backend.store(), {})
    failed = queue.latest_for(submission.receipt_no)
    assert failed.state == FAILED and failed.next_attempt_at is not None  # kept, with its automatic retry
    kiosk.window.print_retry_timer.setInterval(100)

    folder.unlink()  # the printer is back
    kiosk.qtbot.waitUntil(lambda: queue.latest_for(submission.receipt_no).state == PRINTED, timeout=10_000)
    kiosk.settle()
    pdfs = list(folder.rglob("*.pdf"))
    assert len(pdfs) == 1 and submission.receipt_no.replace("-", "_") in pdfs[0].name.replace("-", "_")
    text = subprocess.run(["pdftotext", str(pdfs[0]), "-"], capture_output=True, text=True, check=True).stdout
    assert submission.receipt_no in text.replace(" ", "")
    assert kiosk.window.strip.printer is True  # the status strip shows the printer ready again
    kiosk.qtbot.wait(300)
    kiosk.settle()
    assert len(list(folder.rglob("*.pdf"))) == 1  # printed once, not again at every tick


def test_a_print_left_unfinished_by_a_stopped_kiosk_waits_for_staff(make_kiosk) -> None:
    kiosk = make_kiosk()
    backend = kiosk.state.backend
    submission, _ = commit(kiosk)
    queue = backend._print_queue()
    data = receipt_for_submission(submission.receipt_no, submission.summary, hall_name=Bilingual("大厅", "Hall"),
                                  service=kiosk.state.catalog.get("residence-permit"), scanned=set())
    job = queue.submit_receipt(data, printer="default")
    with backend.store().transaction() as db:  # the power went while it was printing
        db.execute("UPDATE print_jobs SET state = 'printing' WHERE id = ?", (job.id,))

    assert backend.recover_interrupted_prints() == 1
    backend.retry_prints()
    recovered = queue.get(job.id)
    assert recovered.state == FAILED and recovered.needs_staff and "interrupted" in (recovered.last_error or "")
    assert not list((kiosk.data_dir / "receipts").rglob("*.pdf"))  # not printed twice behind staff's back


def test_a_hall_can_leave_failed_receipts_to_staff(make_kiosk, data_dir) -> None:
    # [printing] automatic_retries = 0: no receipt comes out after its citizen has left.
    (data_dir / "kiosk.toml").write_text("config_version = 1\n[printing]\nautomatic_retries = 0\n")
    kiosk = make_kiosk()
    backend = kiosk.state.backend
    folder = kiosk.data_dir / "receipts"
    folder.write_text("not a folder\n", "utf-8")  # the printer is out
    submission, service = commit(kiosk)

    assert not backend.print_receipt(submission, service, set(), ("大厅", "Hall")).printed
    queue = PrintQueue(backend.store(), {})
    failed = queue.latest_for(submission.receipt_no)
    assert failed.state == FAILED and failed.next_attempt_at is None and failed.needs_staff

    folder.unlink()  # the printer is back; the kiosk's retry timer runs, and prints nothing
    folder.mkdir()
    kiosk.window.print_retry_timer.setInterval(100)
    kiosk.qtbot.wait(500)
    kiosk.settle()
    assert queue.latest_for(submission.receipt_no).state == FAILED
    assert not list(folder.rglob("*.pdf"))
    # staff print it again (the agent station runs the same job on the kiosk's printer)
    assert backend._print_queue().run(failed.id).state == PRINTED and len(list(folder.rglob("*.pdf"))) == 1
