"""The kiosk's slow work, as plain Python: the store, the printer, ratings.

Every method here may block (SQLite with ``synchronous=FULL``, a printer that takes its
time), so screens call them only through :func:`kiosk.background.run_in_background`.
One :class:`~sync.store.Store` is opened on first use and shared; the store serialises
calls from different threads itself.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from forms import ServiceDefinition
from sync.ratelimit import SlidingWindowLimit
from sync.store import Store, database_path, open_store
from sync.submission import Attachment, EnqueuedSubmission

log = logging.getLogger(__name__)

PRINTER = "default"


@dataclass(frozen=True)
class PrintOutcome:
    """What became of the receipt after a submission: printed (and where) or why not."""

    printed: bool
    output: str = ""
    error: str = ""

    @classmethod
    def of(cls, job: Any) -> PrintOutcome:
        """What became of a print job that has run."""
        if job.state != "printed":
            return cls(False, error=job.last_error or job.state)
        return cls(True, output=job.output or "")


@dataclass(frozen=True)
class StatusAnswer:
    """What the kiosk knows about a receipt's case.

    ``status`` is a case status of the central platform (``received``, ``in_review``...) or
    ``waiting`` (made on this terminal, not yet sent) or ``unknown`` (never heard of it).
    ``source`` says where it came from: ``online`` (asked the platform just now), ``cache``
    (the last status pulled, at ``updated_at``), ``local`` (this terminal's queue).
    """

    receipt_no: str
    status: str
    source: str
    updated_at: datetime | None = None
    note: str | None = None
    service_id: str | None = None


@dataclass(frozen=True)
class _PrinterContext:
    """What :mod:`kiosk.commands.printers` needs to know about the terminal."""

    data_dir: Path
    config: Any


# Status look-ups at one kiosk, from whatever source (platform, cache, own queue): enough for
# a family's receipts one after the other, too few to walk a day's receipt numbers. The
# platform has its own, looser limit per terminal. See docs/security.md.
KIOSK_LOOKUPS_PER_WINDOW = 20
KIOSK_LOOKUP_WINDOW_SECONDS = 600.0


class LookUpsLimited(Exception):
    """Too many status look-ups at this kiosk lately (or the platform said so for it)."""


class KioskBackend:
    """The terminal's store and printer, for the UI's background tasks."""

    def __init__(self, data_dir: Path, config: Any, *, print_retry_delays: Sequence[timedelta] | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.config = config
        self._lock = threading.Lock()
        # One job at a time reaches the printer: a retry never claims the job a citizen is waiting for.
        self._print_lock = threading.Lock()
        self._store: Store | None = None
        self._lookups = SlidingWindowLimit(KIOSK_LOOKUPS_PER_WINDOW, KIOSK_LOOKUP_WINDOW_SECONDS)
        self.print_retry_delays = tuple(print_retry_delays) if print_retry_delays is not None else None

    # --- store ---------------------------------------------------------------------------

    def store(self) -> Store:
        """The terminal's store, opened (and migrated) on first use."""
        with self._lock:
            if self._store is None:
                self._store = open_store(database_path(self.data_dir),
                                         min_free_mb=self.config.store.min_free_disk_mb)
            return self._store

    def close(self) -> None:
        """Close the store (at exit, after background work has finished)."""
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None

    def waiting_to_sync(self) -> int:
        """Submissions not yet accepted by the central platform (pending or being sent)."""
        counts = self.store().counts()
        return counts["pending"] + counts["sending"]

    def is_enrolled(self) -> bool:
        """Whether the terminal can accept real submissions."""
        return self.store().enrolment() is not None

    def submit(
        self,
        service: ServiceDefinition,
        payload: Mapping[str, Any],
        files: Sequence[Attachment],
        *,
        is_test: bool = False,
        session_seconds: float | None = None,
    ) -> EnqueuedSubmission:
        """Commit one submission durably (sealed, queued, receipt number); raises NotEnrolled."""
        return self.store().enqueue(
            service.id,
            service.version,
            payload,
            attachments=files,
            is_test=is_test,
            service_name={"zh_CN": service.name.zh_CN, "en": service.name.en},
            actor="kiosk",
            session_seconds=session_seconds,
        )

    def record_config(self, path: Path | None) -> bool:
        """Audit the configuration file if it changed since the last start (its SHA-256)."""
        import hashlib

        from sync.audit import record_config_change

        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path is not None and path.is_file() else "defaults"
        return record_config_change(self.store(), digest)

    def record_rating(self, service_id: str, score: int, receipt_no: str | None, tags: Sequence[str]) -> None:
        """Store a satisfaction rating (好差评)."""
        self.store().record_rating(service_id, score, receipt_no=receipt_no, tags=tags)

    def lookup_status(self, receipt_no: str) -> StatusAnswer:
        """The status of the case behind ``receipt_no`` (already validated): the platform's
        answer when it can be reached within a few seconds, else the cache, else this
        terminal's own queue. Blocks (SQLite, HTTP)."""
        from kiosk.commands.enroll import client_settings_from
        from sync.client import ClientError
        from sync.engine import client_for
        from sync.outbox import UnknownSubmission
        from sync.store import CaseStatus

        if self._lookups.attempt("kiosk") is not None:
            raise LookUpsLimited(f"more than {self._lookups.limit} look-ups in {self._lookups.window:.0f} s")
        store = self.store()
        enrolment = store.enrolment()
        if enrolment is not None:
            settings = {**client_settings_from(self.config), "connect_timeout": 3.0, "read_timeout": 5.0}
            try:
                with client_for(enrolment, **settings) as client:
                    found = client.lookup_receipt(receipt_no)
                store.save_case_statuses([CaseStatus(found.receipt_no, found.case_no, found.status,
                                                     found.status_changed_at, found.status_note)])
                return StatusAnswer(found.receipt_no, found.status, "online", found.status_changed_at,
                                    found.status_note, found.service_id)
            except ClientError as exc:  # offline, unknown to the platform, refused: fall back to what we know
                if exc.status == 429:
                    raise LookUpsLimited("the platform refused: too many look-ups from this terminal") from exc
                log.info("status look-up online failed (%s); using what this terminal knows", type(exc).__name__)
            except Exception:  # an unusable answer must not hide the cached status
                log.exception("status look-up online failed")
        cached = store.case_status(receipt_no)
        if cached is not None:
            return StatusAnswer(cached.receipt_no, cached.status, "cache", cached.updated_at, cached.note)
        try:
            entry = store.find(receipt_no)
        except UnknownSubmission:
            return StatusAnswer(receipt_no, "unknown", "local")
        status = "received" if entry.state == "accepted" else "waiting"
        return StatusAnswer(entry.receipt_no, status, "local", entry.accepted_at or entry.created_at,
                            service_id=entry.service_id)

    # --- the hall: appointments, tickets, help ---------------------------------------------

    def check_in(self, token: str, hall_name: tuple[str, str], catalog: Any) -> tuple[Any, PrintOutcome]:
        """Check an appointment in (verified offline) and print its queue ticket; raises CheckinRefused."""
        from datetime import timedelta

        from sync.checkin import CheckinWindow, check_in_appointment

        window = CheckinWindow(early=timedelta(minutes=self.config.hall.checkin_early_minutes))
        ticket = check_in_appointment(self.store(), token, window=window)
        return ticket, self.print_ticket(ticket, hall_name, ticket_service_name(ticket, catalog))

    def take_ticket(self, category_id: str, hall_name: tuple[str, str], catalog: Any) -> tuple[Any, PrintOutcome]:
        """A walk-in queue ticket for a service category, printed."""
        from sync.checkin import category_prefix, take_ticket

        ids = [c.id for c in catalog.categories]
        ticket = take_ticket(self.store(), category_id, category_prefix(ids, category_id))
        return ticket, self.print_ticket(ticket, hall_name, ticket_service_name(ticket, catalog))

    def print_ticket(self, ticket: Any, hall_name: tuple[str, str], service_name: tuple[str, str]) -> PrintOutcome:
        """Print a queue ticket; a printer problem is an outcome, not an error."""
        from printing import Bilingual, PrintError
        from printing.data import TicketData

        names = service_name
        try:
            data = TicketData(ticket_no=ticket.ticket_no, hall_name=Bilingual(*hall_name),
                              service_name=Bilingual(*names), waiting_ahead=ticket.waiting_ahead,
                              issued_at=ticket.issued_at)
            with self._print_lock:
                job = self._print_queue().print_ticket(data, printer=PRINTER)
        except (PrintError, ValueError) as exc:
            log.warning("ticket %s not printed: %s", ticket.ticket_no, exc)
            return PrintOutcome(False, error=str(exc))
        return PrintOutcome.of(job)

    def call_staff(self) -> Any:
        """Raise a help request to the agent stations (through the platform); whether it arrived."""
        from kiosk.commands.enroll import client_settings_from
        from sync.engine import client_for
        from sync.hall_sync import HELP_TIMEOUT_SECONDS, raise_help_request

        store = self.store()
        enrolment = store.enrolment()
        if enrolment is None:
            return raise_help_request(store, None)
        settings = {**client_settings_from(self.config), "connect_timeout": 3.0,
                    "read_timeout": float(HELP_TIMEOUT_SECONDS)}
        with client_for(enrolment, **settings) as client:
            return raise_help_request(store, client)

    # --- technicians -----------------------------------------------------------------------

    def technician_sign_in(self, username: str, pin: str) -> Any:
        """A staff sign-in (argon2id, lock-out, audited) for the maintenance screen."""
        from datetime import timedelta

        from sync.staff import LockoutPolicy, sign_in

        staff = self.config.staff
        policy = LockoutPolicy(staff.max_failed_signins, timedelta(minutes=staff.lockout_minutes))
        return sign_in(self.store(), username, pin, policy=policy)

    def doctor(self) -> list[Any]:
        """``kiosk doctor``'s checks."""
        from kiosk.doctor import run_checks
        from kiosk.paths import resolve_config_path

        return run_checks(self.data_dir, resolve_config_path(self.data_dir))

    def enrol_from_qr(self, text: str) -> Any:
        """Enrol (again) from a scanned enrolment QR code; raises with a technician's message."""
        from kiosk.commands.enroll import enroll_from_payload

        return enroll_from_payload(self.data_dir, self.config, text, force=True, device_name="kiosk")

    def demo_receipt_scan(self) -> Any:
        """Demo: a photo of the newest receipt's QR code, decoded by the camera pipeline's decoder.

        Returns the :class:`devices.scan.ScanResult`, or None when nothing was submitted yet.
        """
        import io

        import numpy as np
        import segno
        from PIL import Image

        from devices.decoder import make_decoder
        from devices.scan import ScanSource

        row = self.store().db.execute("SELECT receipt_no FROM submissions ORDER BY created_at DESC LIMIT 1").fetchone()
        if row is None:
            return None
        png = io.BytesIO()
        segno.make_qr(row[0], error="m").save(png, kind="png", scale=8, border=6)
        frame = np.asarray(Image.open(io.BytesIO(png.getvalue())).convert("L"))
        results = make_decoder("zxing").decode(frame, source=ScanSource.CAMERA)
        return results[0] if results else None

    # --- printer -------------------------------------------------------------------------

    def _print_queue(self) -> Any:
        from kiosk.commands.printers import print_retry_delays, printer_lookup
        from printing.queue import PrintQueue

        lookup = printer_lookup(_PrinterContext(self.data_dir, self.config))
        delays = self.print_retry_delays
        return PrintQueue(self.store(), lookup,
                          retry_delays=print_retry_delays(self.config) if delays is None else delays)

    def retry_prints(self) -> list[PrintOutcome]:
        """Print again the receipts and tickets whose automatic retry is due (and jobs never run); their outcomes.

        A failed print keeps its job with a retry time (:mod:`printing.queue`); the kiosk calls
        this every few seconds so a receipt that failed while the printer was out comes out
        once it is back, and after the last automatic retry the job waits for staff. While a
        print is under way (a citizen's receipt, or the last call's retries on a slow printer)
        this returns at once with nothing done: the next call tries again, and calls never
        pile up on the background threads the kiosk's other work needs.
        """
        if not self._print_lock.acquire(blocking=False):
            return []
        try:
            return [PrintOutcome.of(job) for job in self._print_queue().retry_due()]
        finally:
            self._print_lock.release()

    def recover_interrupted_prints(self) -> int:
        """At start-up: jobs left "printing" by a stopped kiosk become failed, for staff; how many."""
        with self._print_lock:
            return self._print_queue().recover_interrupted()

    def print_receipt(
        self,
        submission: EnqueuedSubmission,
        service: ServiceDefinition,
        scanned: Collection[str],
        hall_name: tuple[str, str],
    ) -> PrintOutcome:
        """Print the receipt of a committed submission; a printer problem is an outcome, not an error."""
        from printing import Bilingual, PrintError
        from printing.compose import receipt_for_submission

        try:
            data = receipt_for_submission(
                submission.receipt_no,
                submission.summary,
                hall_name=Bilingual(*hall_name),
                service=service,
                scanned=scanned,
            )
            with self._print_lock:
                job = self._print_queue().print_receipt(data, printer=PRINTER)
        except PrintError as exc:
            log.warning("receipt %s not printed: %s", submission.receipt_no, exc)
            return PrintOutcome(False, error=str(exc))
        return PrintOutcome.of(job)

    def printer_ready(self) -> bool | None:
        """True when the receipt printer can print, False when it cannot, None when unknown."""
        from printing import PrinterState

        try:
            status = self._print_queue().printer(PRINTER).status()
        except Exception as exc:  # a misconfigured printer is a state to show, not a crash
            log.warning("printer status unavailable: %s", exc)
            return False
        if status.state == PrinterState.UNKNOWN:
            return None
        return status.can_print


def ticket_service_name(ticket: Any, catalog: Any) -> tuple[str, str]:
    """What a ticket is for, in Chinese and English: its service, else its category."""
    for service in catalog.services:
        if service.id == ticket.service_id:
            return service.name.zh_CN, service.name.en
    for category in catalog.categories:
        if category.id == ticket.category:
            return category.name.zh_CN, category.name.en
    return "业务办理", "Services"
