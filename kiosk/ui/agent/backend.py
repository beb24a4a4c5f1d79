"""The agent station's slow work, as plain Python: sign-in, submitting on behalf, search, reprint,
the sync queue, the daily summary and the hall's help requests.

Like :class:`kiosk.ui.backend.KioskBackend` (which it extends: same store, same printer),
every method may block, so the pages call them only through
:func:`kiosk.background.run_in_background`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

# Imported at start-up rather than first inside a background task (where it would delay the
# first receipt); see also kiosk.background.UiThreadGarbageCollector.
import printing.compose
import printing.daily_report
import printing.queue
from forms import ServiceDefinition
from kiosk.commands.enroll import client_settings_from
from kiosk.ui.backend import PRINTER, KioskBackend, PrintOutcome
from printing import Bilingual, PrintError
from printing.data import ReceiptData
from sync.audit import AuditAction
from sync.client import ClientError
from sync.engine import client_for
from sync.outbox import ACCEPTED, CANCELLED, DEAD, PENDING, SENDING, QueueEntry
from sync.report import DailySummary, daily_summary, write_csv
from sync.search import SearchQuery, search_submissions
from sync.staff import LockoutPolicy, SignInResult, StaffAccount, cancel_dead_letter, retry_dead_letter, sign_in
from sync.store_common import utc_now
from sync.submission import Attachment, EnqueuedSubmission

log = logging.getLogger(__name__)

HELP_TIMEOUT_SECONDS = 4.0


@dataclass(frozen=True)
class QueueOverview:
    """The sync queue as staff see it: counts per state, what waits, what was refused."""

    counts: Mapping[str, int]
    pending: tuple[QueueEntry, ...]
    dead: tuple[QueueEntry, ...]


@dataclass(frozen=True)
class ExportedSummary:
    """Where the daily summary was written."""

    csv: Path
    pdf: Path


class Offline(Exception):
    """The central platform cannot be reached (or the terminal is not enrolled)."""


class AgentBackend(KioskBackend):
    """The terminal's store and printer, with what staff do at the counter."""

    # --- staff -----------------------------------------------------------------------------

    def lockout_policy(self) -> LockoutPolicy:
        """From ``[staff] max_failed_signins`` and ``lockout_minutes``."""
        staff = self.config.staff
        return LockoutPolicy(int(staff.max_failed_signins), timedelta(minutes=int(staff.lockout_minutes)))

    def sign_in(self, username: str, pin: str) -> SignInResult:
        """Check a sign-in attempt (argon2id; counted, locked out, audited)."""
        return sign_in(self.store(), username, pin, policy=self.lockout_policy())

    def sign_out(self, account: StaffAccount, why: str) -> None:
        """Note the sign-out in the audit log."""
        self.store().audit(AuditAction.SIGN_OUT, actor=account.username, detail=why)

    # --- submitting on behalf (代办) ------------------------------------------------------------

    def submit_on_behalf(
        self,
        service: ServiceDefinition,
        payload: Mapping[str, Any],
        files: Sequence[Attachment],
        account: StaffAccount,
        *,
        session_seconds: float | None = None,
        is_test: bool = False,
    ) -> EnqueuedSubmission:
        """Commit a submission made at the counter, the agent recorded (summary, sealed meta, audit)."""
        return self.store().enqueue(
            service.id,
            service.version,
            payload,
            attachments=files,
            is_test=is_test,
            service_name={"zh_CN": service.name.zh_CN, "en": service.name.en},
            agent_id=account.username,
            session_seconds=session_seconds,
        )

    # --- search and reprint -----------------------------------------------------------------

    def search(self, query: SearchQuery) -> list[QueueEntry]:
        """Submissions matching ``query`` on their masked summaries (raises SearchError)."""
        return search_submissions(self.store(), query)

    def reprint(self, receipt_no: str, account: StaffAccount, service: ServiceDefinition | None,
                hall_name: tuple[str, str]) -> PrintOutcome:
        """Print a receipt again, marked as a reprint, audited as ``reprint`` under the staff account.

        The receipt printed before is used again when there is one; otherwise it is built
        from the masked summary (a printer problem is an outcome, not an error).
        """
        store = self.store()
        entry = store.find(receipt_no)

        def build() -> ReceiptData:
            return printing.compose.receipt_for_submission(entry.receipt_no, entry.summary,
                                                           hall_name=Bilingual(*hall_name), service=service)

        try:
            job = self._print_queue().reprint_receipt(entry.receipt_no, build, actor=account.username,
                                                      printer=PRINTER, submission_id=entry.submission_id)
        except PrintError as exc:
            log.warning("receipt %s not reprinted: %s", entry.receipt_no, exc)
            return PrintOutcome(False, error=str(exc))
        return PrintOutcome.of(job)

    # --- the sync queue -----------------------------------------------------------------------

    def queue_overview(self) -> QueueOverview:
        """Counts per outbox state, the items waiting and the dead letters."""
        store = self.store()
        counts = store.counts()
        pending = tuple(store.list_queue((PENDING, SENDING), limit=500))
        dead = tuple(store.list_queue((DEAD,), limit=500))
        return QueueOverview(counts, pending, dead)

    def retry_dead(self, account: StaffAccount, submission_id: str, reason: str) -> None:
        """A supervisor queues a dead letter again (role checked, reason audited)."""
        retry_dead_letter(self.store(), account, submission_id, reason)

    def cancel_dead(self, account: StaffAccount, submission_id: str, reason: str) -> None:
        """A supervisor cancels a dead letter for good (role checked, reason audited)."""
        cancel_dead_letter(self.store(), account, submission_id, reason)

    # --- the daily summary -------------------------------------------------------------------

    def daily_summary(self, day: date) -> DailySummary:
        """The figures of the terminal's local day ``day``."""
        return daily_summary(self.store(), day, now=utc_now())

    def export_summary(self, day: date, folder: Path) -> ExportedSummary:
        """Write ``daily-summary-DAY.csv`` and ``.pdf`` into ``folder``."""
        summary = self.daily_summary(day)
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        csv_path = folder / f"daily-summary-{day.isoformat()}.csv"
        pdf_path = folder / f"daily-summary-{day.isoformat()}.pdf"
        write_csv(summary, csv_path)
        printing.daily_report.write_daily_pdf(summary, pdf_path)
        log.info("daily summary %s written to %s", day, folder)
        return ExportedSummary(csv_path, pdf_path)

    # --- help requests --------------------------------------------------------------------------

    def _client(self) -> Any:
        enrolment = self.store().enrolment()
        if enrolment is None:
            raise Offline("this terminal is not enrolled")
        settings = {**client_settings_from(self.config), "connect_timeout": 3.0,
                    "read_timeout": HELP_TIMEOUT_SECONDS}
        return client_for(enrolment, **settings)

    def help_requests(self) -> list[Any]:
        """The hall's open help requests, oldest first; raises :class:`Offline`."""
        try:
            with self._client() as client:
                return list(client.open_help_requests())
        except ClientError as exc:
            raise Offline(str(exc)) from exc

    def acknowledge_help(self, request_id: str, account: StaffAccount) -> Any:
        """Take a help request (the platform records who); raises :class:`Offline`."""
        try:
            with self._client() as client:
                answer = client.acknowledge_help_request(request_id, account.username)
        except ClientError as exc:
            raise Offline(str(exc)) from exc
        self.store().audit(AuditAction.HELP_ACKNOWLEDGED, actor=account.username, detail=request_id)
        return answer


__all__ = ["ACCEPTED", "CANCELLED", "AgentBackend", "ExportedSummary", "Offline", "QueueOverview"]
