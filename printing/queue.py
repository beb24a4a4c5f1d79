"""The print queue: every receipt and ticket is a job in the local store before it is printed.

Life of a job::

    submit --> pending --run--> printing --> printed
                 ^                  |
                 |                  `--> failed (reason kept) --retry_due--> printing ...
                 |                            |  after the last automatic retry: waits for staff
                 `---- reprint (staff) <------'  (the failed job becomes "replaced")

* A job keeps exactly what was printed (:class:`~printing.data.ReceiptData` as JSON, masked
  values only), so a reprint weeks later shows the same receipt even if the catalog changed.
* A failure is recorded with its reason (no personal data) and retried automatically a few
  times with growing pauses; then it waits for staff, who see it in :meth:`PrintQueue.failed`
  and :meth:`PrintQueue.reprint` it (on the same or another printer). Reprints are audited.
* Printing never blocks or undoes a submission: the submission is committed before its
  receipt job exists, jobs live in their own table with no link that could roll a
  submission back, and :meth:`PrintQueue.run` records printer errors instead of raising.
  The kiosk calls :meth:`PrintQueue.print_receipt` off the UI thread after the commit.
* A job found ``printing`` at start-up was interrupted (power cut): it may or may not have
  come out, so it is marked failed *without* an automatic retry — staff decide.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from printing.data import ReceiptData, TicketData
from printing.errors import PrintError
from printing.layout import Document
from printing.paper import Paper, paper_named
from printing.printer import Printer
from printing.receipt import layout_receipt
from printing.ticket import layout_ticket
from sync.store import Store
from sync.store_common import StoreError, from_db_time, to_db_time, utc_now, write_audit

log = logging.getLogger(__name__)

PENDING = "pending"
PRINTING = "printing"
PRINTED = "printed"
FAILED = "failed"
REPLACED = "replaced"  # a failed job staff reprinted as a new job
STATES = (PENDING, PRINTING, PRINTED, FAILED, REPLACED)
RECEIPT = "receipt"
TICKET = "ticket"

# Pauses before the automatic retries of a failed job; after the last, staff decide.
DEFAULT_RETRY_DELAYS: tuple[timedelta, ...] = (timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10))
INTERRUPTED = "interrupted while printing (the terminal stopped); check whether it came out, reprint if not"


class UnknownPrintJob(StoreError, KeyError):
    """No print job matches the id or receipt/ticket number given."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown print job"


@dataclass(frozen=True)
class PrintJob:
    """One document to print, and how printing it went."""

    id: int
    kind: str  # receipt | ticket
    ref: str  # the receipt or ticket number
    printer: str
    paper: str
    state: str
    attempts: int
    next_attempt_at: datetime | None  # when a failed job is retried automatically; None = waits for staff
    last_error: str | None
    output: str | None  # where it went: a file, a CUPS request id, a connection
    reprint_of: int | None
    requested_by: str
    created_at: datetime
    updated_at: datetime
    printed_at: datetime | None
    document: str = field(repr=False)

    @property
    def needs_staff(self) -> bool:
        """Failed and no automatic retry left: staff should reprint it."""
        return self.state == FAILED and self.next_attempt_at is None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready data (without the document), for staff screens and ``--json``."""
        return {
            "id": self.id,
            "kind": self.kind,
            "ref": self.ref,
            "printer": self.printer,
            "paper": self.paper,
            "state": self.state,
            "attempts": self.attempts,
            "next_attempt_at": self.next_attempt_at.isoformat() if self.next_attempt_at else None,
            "last_error": self.last_error,
            "output": self.output,
            "reprint_of": self.reprint_of,
            "requested_by": self.requested_by,
            "created_at": self.created_at.isoformat(),
            "printed_at": self.printed_at.isoformat() if self.printed_at else None,
            "needs_staff": self.needs_staff,
        }


PrinterLookup = Mapping[str, Printer] | Callable[[str], Printer]

_COLUMNS = (
    "id, kind, ref, printer, paper, state, attempts, next_attempt_at, last_error, output, reprint_of, "
    "requested_by, created_at, updated_at, printed_at, document"
)


class PrintQueue:
    """Print jobs kept in the terminal's store, printed on named printers.

    ``printers`` maps printer names to :class:`~printing.printer.Printer` objects (or is a
    function doing so, raising ``KeyError`` for unknown names).
    """

    def __init__(
        self,
        store: Store,
        printers: PrinterLookup,
        *,
        retry_delays: Sequence[timedelta] = DEFAULT_RETRY_DELAYS,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._store = store
        self._printers = printers
        self._retry_delays = tuple(retry_delays)
        self._clock = clock

    # --- printers ---------------------------------------------------------------------------

    def printer(self, name: str) -> Printer:
        """The printer called ``name``.

        Raises:
            PrintError: there is no such printer.
        """
        try:
            if callable(self._printers):
                return self._printers(name)
            return self._printers[name]
        except KeyError:
            raise PrintError(f"no printer named {name!r} is configured") from None

    # --- submitting ---------------------------------------------------------------------

    def submit_receipt(
        self,
        data: ReceiptData,
        *,
        printer: str,
        paper: Paper | str | None = None,
        requested_by: str = "kiosk",
        reprint_of: int | None = None,
    ) -> PrintJob:
        """Record a receipt job (``pending``), durably; print it with :meth:`run`."""
        return self._submit(RECEIPT, data.receipt_no, data.to_json(), printer, paper, requested_by, reprint_of)

    def submit_ticket(
        self, data: TicketData, *, printer: str, paper: Paper | str | None = None, requested_by: str = "kiosk"
    ) -> PrintJob:
        """Record a queue-ticket job (``pending``), durably; print it with :meth:`run`."""
        return self._submit(TICKET, data.ticket_no, data.to_json(), printer, paper, requested_by, None)

    def print_receipt(self, data: ReceiptData, *, printer: str, paper: Paper | str | None = None) -> PrintJob:
        """Submit and print a receipt at once; what the kiosk calls after a submission commits.

        Never raises for a printer problem: the returned job says ``printed`` or ``failed``
        with the reason (and is retried later).
        """
        job = self.submit_receipt(data, printer=printer, paper=paper)
        return self.run(job.id)

    def print_ticket(self, data: TicketData, *, printer: str, paper: Paper | str | None = None) -> PrintJob:
        """Submit and print a queue ticket at once (never raises for a printer problem)."""
        job = self.submit_ticket(data, printer=printer, paper=paper)
        return self.run(job.id)

    def _submit(
        self,
        kind: str,
        ref: str,
        document: str,
        printer: str,
        paper: Paper | str | None,
        requested_by: str,
        reprint_of: int | None,
    ) -> PrintJob:
        paper_name = self._paper_for(printer, paper)
        now = self._clock()
        with self._store.transaction() as db:
            cursor = db.execute(
                "INSERT INTO print_jobs (kind, ref, document, printer, paper, state, attempts, requested_by, "
                "reprint_of, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?)",
                (kind, ref, document, printer, paper_name, PENDING, requested_by, reprint_of,
                 to_db_time(now), to_db_time(now)),
            )
            job_id = int(cursor.lastrowid or 0)
        log.info("Print job %d: %s %s on %s (%s)", job_id, kind, ref, printer, paper_name)
        return self.get(job_id)

    def _paper_for(self, printer: str, paper: Paper | str | None) -> str:
        if isinstance(paper, Paper):
            return paper.name
        if isinstance(paper, str):
            return paper_named(paper).name
        return self.printer(printer).paper.name

    # --- printing -----------------------------------------------------------------------

    def run(self, job_id: int) -> PrintJob:
        """Print job ``job_id`` now if it is pending or failed; return it as it ended.

        Printer errors (and any unexpected error while rendering or sending) are recorded
        on the job, not raised. A job another worker is printing, or already printed, is
        returned unchanged.
        """
        now = self._clock()
        with self._store.transaction() as db:
            claimed = db.execute(
                "UPDATE print_jobs SET state = ?, attempts = attempts + 1, updated_at = ? "
                "WHERE id = ? AND state IN (?, ?)",
                (PRINTING, to_db_time(now), job_id, PENDING, FAILED),
            ).rowcount
        job = self.get(job_id)
        if not claimed:
            return job
        try:
            printer = self.printer(job.printer)
            doc = self.document(job)
            output = printer.print_document(doc, job_name=f"{job.kind}-{job.ref}")
        except PrintError as exc:
            return self._failed(job, str(exc))
        except Exception as exc:  # a bug must cost a receipt, never the kiosk
            log.exception("Print job %d failed unexpectedly", job.id)
            return self._failed(job, f"unexpected error: {type(exc).__name__}: {exc}")
        done = self._clock()
        with self._store.transaction() as db:
            db.execute(
                "UPDATE print_jobs SET state = ?, output = ?, last_error = NULL, next_attempt_at = NULL, "
                "printed_at = ?, updated_at = ? WHERE id = ?",
                (PRINTED, output, to_db_time(done), to_db_time(done), job.id),
            )
        log.info("Print job %d printed (%s)", job.id, output)
        return self.get(job.id)

    def _failed(self, job: PrintJob, reason: str) -> PrintJob:
        now = self._clock()
        retry_at = None
        if job.attempts <= len(self._retry_delays):
            retry_at = now + self._retry_delays[job.attempts - 1]
        with self._store.transaction() as db:
            db.execute(
                "UPDATE print_jobs SET state = ?, last_error = ?, next_attempt_at = ?, updated_at = ? WHERE id = ?",
                (FAILED, reason, to_db_time(retry_at) if retry_at else None, to_db_time(now), job.id),
            )
            if retry_at is None:
                write_audit(db, now, "print-failed", detail=f"{job.kind} {job.ref} job {job.id}: {reason}")
        log.warning(
            "Print job %d (%s %s on %s) failed, attempt %d: %s; %s",
            job.id, job.kind, job.ref, job.printer, job.attempts, reason,
            f"retrying at {retry_at:%H:%M:%S}" if retry_at else "waiting for staff to reprint",
        )
        return self.get(job.id)

    def retry_due(self, now: datetime | None = None) -> list[PrintJob]:
        """Run every failed job whose automatic retry is due; returns them as they ended."""
        now = now or self._clock()
        with self._store.transaction() as db:
            ids = [row[0] for row in db.execute(
                "SELECT id FROM print_jobs WHERE state IN (?, ?) AND (next_attempt_at <= ? OR state = ?) ORDER BY id",
                (FAILED, PENDING, to_db_time(now), PENDING),
            ).fetchall()]
        return [self.run(job_id) for job_id in ids]

    def recover_interrupted(self) -> int:
        """Mark jobs left ``printing`` by a stopped terminal as failed, for staff; returns how many.

        Call once at start-up, before any printing.
        """
        now = self._clock()
        with self._store.transaction() as db:
            count = db.execute(
                "UPDATE print_jobs SET state = ?, last_error = ?, next_attempt_at = NULL, updated_at = ? "
                "WHERE state = ?",
                (FAILED, INTERRUPTED, to_db_time(now), PRINTING),
            ).rowcount
            if count:
                write_audit(db, now, "print-interrupted", detail=f"{count} print jobs")
        if count:
            log.warning("%d print job(s) were interrupted; staff should check and reprint", count)
        return count

    def reprint(
        self,
        key: int | str,
        *,
        actor: str = "staff",
        printer: str | None = None,
        paper: Paper | str | None = None,
    ) -> PrintJob:
        """Print a job's document again as a new job (marked "reprint" on paper); audited.

        ``key`` is a job id or a receipt/ticket number (its latest job). The reprint goes to
        ``printer`` (default: the original's) on ``paper`` (default: that printer's paper).
        A failed original becomes ``replaced`` so it is not also retried automatically.
        """
        original = self.get(key) if isinstance(key, int) else self.latest_for(key)
        target = printer or original.printer
        if paper is None:
            paper = original.paper if target == original.printer else None
        job = self._submit(original.kind, original.ref, original.document, target, paper, actor, original.id)
        now = self._clock()
        with self._store.transaction() as db:
            db.execute(
                "UPDATE print_jobs SET state = ?, next_attempt_at = NULL, updated_at = ? WHERE id = ? AND state = ?",
                (REPLACED, to_db_time(now), original.id, FAILED),
            )
            write_audit(db, now, "reprint", actor=actor,
                        detail=f"{original.kind} {original.ref} job {original.id} -> job {job.id} on {target}")
        return self.run(job.id)

    def reprint_receipt(
        self,
        receipt_no: str,
        build: Callable[[], ReceiptData],
        *,
        actor: str,
        printer: str,
        paper: Paper | str | None = None,
        submission_id: str | None = None,
    ) -> PrintJob:
        """Print a receipt again for staff or a technician; audited as ``reprint`` either way.

        The document printed before is used when this terminal printed the receipt; otherwise
        (printed elsewhere, or the job was purged) ``build()`` makes it anew from the summary.
        """
        try:
            self.latest_for(receipt_no)
        except UnknownPrintJob:
            job = self.submit_receipt(build(), printer=printer, paper=paper, requested_by=actor)
            with self._store.transaction() as db:
                write_audit(db, self._clock(), "reprint", actor=actor, submission_id=submission_id,
                            detail=f"receipt {receipt_no} job {job.id} on {printer} (built from the summary)")
            return self.run(job.id)
        return self.reprint(receipt_no, actor=actor, printer=printer, paper=paper)

    # --- documents ------------------------------------------------------------------------

    def document(self, job: PrintJob) -> Document:
        """The laid-out document of ``job`` (marked as a reprint if it is one)."""
        paper = paper_named(job.paper)
        if job.kind == RECEIPT:
            data = ReceiptData.from_json(job.document)
            printed_at = self._clock().astimezone(data.submitted_at.tzinfo)
            return layout_receipt(data, paper, printed_at=printed_at, reprint=job.reprint_of is not None)
        if job.kind == TICKET:
            return layout_ticket(TicketData.from_json(job.document), paper)
        raise PrintError(f"print job {job.id} has unknown kind {job.kind!r}")

    def receipt_data(self, key: int | str) -> ReceiptData:
        """The receipt a job printed (by job id, or the latest job of a receipt number)."""
        job = self.get(key) if isinstance(key, int) else self.latest_for(key)
        if job.kind != RECEIPT:
            raise UnknownPrintJob(f"print job {job.id} is a {job.kind}, not a receipt")
        return ReceiptData.from_json(job.document)

    # --- looking ----------------------------------------------------------------------------

    def get(self, job_id: int) -> PrintJob:
        """The job with id ``job_id``; raises :class:`UnknownPrintJob`."""
        rows = self._select("WHERE id = ?", (job_id,))
        if not rows:
            raise UnknownPrintJob(f"no print job {job_id}")
        return rows[0]

    def latest_for(self, ref: str) -> PrintJob:
        """The most recent job for a receipt or ticket number; raises :class:`UnknownPrintJob`."""
        rows = self._select("WHERE ref = ? ORDER BY id DESC LIMIT 1", (ref.strip(),))
        if not rows:
            raise UnknownPrintJob(f"nothing was printed for {ref!r} on this terminal")
        return rows[0]

    def jobs(self, states: Iterable[str] | None = None, *, limit: int | None = None) -> list[PrintJob]:
        """Jobs, newest first, optionally only in ``states``."""
        where, params = "", []
        if states is not None:
            wanted = list(states)
            unknown = set(wanted) - set(STATES)
            if unknown:
                raise ValueError(f"unknown print job state(s): {', '.join(sorted(unknown))}")
            where = f"WHERE state IN ({', '.join('?' for _ in wanted)}) "
            params.extend(wanted)
        where += "ORDER BY id DESC"
        if limit is not None:
            where += " LIMIT ?"
            params.append(limit)
        return self._select(where, tuple(params))

    def failed(self) -> list[PrintJob]:
        """Failed jobs, newest first: what staff should look at."""
        return self.jobs([FAILED])

    def _select(self, where: str, params: tuple[Any, ...]) -> list[PrintJob]:
        with self._store.transaction() as db:
            rows = db.execute(f"SELECT {_COLUMNS} FROM print_jobs {where}", params).fetchall()
        return [_job(row) for row in rows]


def _job(row: Sequence[Any]) -> PrintJob:
    def when(value: str | None) -> datetime | None:
        return from_db_time(value) if value else None

    return PrintJob(
        id=row[0], kind=row[1], ref=row[2], printer=row[3], paper=row[4], state=row[5], attempts=row[6],
        next_attempt_at=when(row[7]), last_error=row[8], output=row[9], reprint_of=row[10], requested_by=row[11],
        created_at=from_db_time(row[12]), updated_at=from_db_time(row[13]), printed_at=when(row[14]),
        document=row[15],
    )
