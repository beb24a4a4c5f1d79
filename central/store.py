"""The central platform's storage interface and the records it deals in.

Everything the platform keeps (devices, enrolment codes, catalog versions, submissions,
case status, attachment records) goes through :class:`CentralStore`. It is implemented
once in shared SQL (:class:`central.sql_store.SQLStore`) with two backends,
:class:`central.sqlite_store.SQLiteStore` and :class:`central.postgres_store.PostgresStore`
(:func:`central.database.open_store` picks one). Implementations must make every method
atomic on its own; :meth:`CentralStore.insert_submission` in particular must be safe against the same
submission arriving twice at the same moment (a unique constraint inside a transaction,
never check-then-insert across transactions).

Times are timezone-aware ``datetime`` values in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


class StoreError(Exception):
    """Base of the store's expected failures."""


class EnrolmentCodeUnknown(StoreError):
    """No enrolment code has this hash."""


class EnrolmentCodeUsed(StoreError):
    """The enrolment code was used before."""


class EnrolmentCodeExpired(StoreError):
    """The enrolment code is past its expiry."""


class FormVersionConflict(StoreError):
    """A (service id, form version) was published before with different content."""


class CaseNotFound(StoreError):
    """No case has this number."""


class TextNotStorable(StoreError, ValueError):
    """A text holds the NUL character, which PostgreSQL cannot store in a text column.

    No real value does (names, ids, notes), so the platform answers ``422`` rather than
    fail. SQLite stores such text; only the PostgreSQL store raises this.
    """


@dataclass(frozen=True)
class Device:
    """An enrolled terminal."""

    device_id: str
    device_code: str
    site_code: str
    name: str | None
    enrolled_at: datetime
    revoked_at: datetime | None = None

    @property
    def revoked(self) -> bool:
        """Whether the device may no longer call the platform."""
        return self.revoked_at is not None


@dataclass(frozen=True)
class EnrolmentCode:
    """A stored enrolment code (only its hash is kept)."""

    code_hash: str
    site_code: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    device_id: str | None = None


@dataclass(frozen=True)
class PublishedCatalog:
    """One signed catalog version."""

    version: str
    created_at: datetime
    bundle: bytes
    signature: bytes


@dataclass(frozen=True)
class FormDefinitionRecord:
    """One published (service id, form version) and its definition as loaded."""

    service_id: str
    form_version: str
    definition: dict[str, Any]
    content_hash: str


@dataclass(frozen=True)
class NewSubmission:
    """A submission that passed every check and is about to be stored."""

    submission_id: str
    service_id: str
    form_version: str
    receipt_no: str
    device_id: str
    site_code: str
    created_at: datetime
    received_at: datetime
    is_test: bool
    answers: dict[str, Any]
    attachments: tuple[str, ...] = ()
    agent_id: str | None = None  # staff account that submitted on the citizen's behalf


@dataclass(frozen=True)
class SubmissionRecord:
    """A stored submission with its case number and current status."""

    submission_id: str
    case_no: str
    service_id: str
    form_version: str
    receipt_no: str
    device_id: str
    site_code: str
    created_at: datetime
    received_at: datetime
    is_test: bool
    status: str
    status_note: str | None
    status_changed_at: datetime
    answers: dict[str, Any] = field(default_factory=dict, repr=False)
    attachments: tuple[str, ...] = ()
    agent_id: str | None = None


@dataclass(frozen=True)
class StatusChangeRecord:
    """One entry of the case status feed."""

    cursor: int
    case_no: str
    receipt_no: str
    submission_id: str
    service_id: str
    site_code: str
    status: str
    note: str | None
    changed_at: datetime


@dataclass(frozen=True)
class AttachmentRecord:
    """A complete, verified attachment (content-addressed by plaintext SHA-256)."""

    sha256: str
    size: int
    stored_at: datetime


@dataclass(frozen=True)
class InsertOutcome:
    """What :meth:`CentralStore.insert_submissions` did with one submission."""

    record: SubmissionRecord | None
    created: bool = False
    receipt_conflict: bool = False


class CentralStore(Protocol):
    """What the platform needs from its database."""

    # --- devices and enrolment ----------------------------------------------------------
    def add_enrolment_code(self, code: EnrolmentCode) -> None:
        """Store a new enrolment code (by hash)."""
        ...

    def redeem_enrolment_code(
        self,
        code_hash: str,
        *,
        now: datetime,
        device_id: str,
        token_hash: str,
        name: str | None,
        device_code_candidates: list[str],
    ) -> Device:
        """Mark the code used and create the device, atomically.

        The device gets the first candidate device code not yet taken.

        Raises:
            EnrolmentCodeUnknown, EnrolmentCodeUsed, EnrolmentCodeExpired
        """
        ...

    def device_by_token_hash(self, token_hash: str) -> Device | None:
        """The device holding this token, revoked or not."""
        ...

    def list_devices(self) -> list[Device]:
        """All devices, oldest enrolment first."""
        ...

    def revoke_device(self, device_id: str, *, now: datetime) -> Device | None:
        """Revoke a device (idempotent); ``None`` if there is no such device."""
        ...

    # --- settings ---------------------------------------------------------------------------
    def get_setting(self, key: str) -> str | None:
        """A stored setting's value."""
        ...

    def set_setting(self, key: str, value: str) -> None:
        """Store a setting."""
        ...

    # --- catalog ------------------------------------------------------------------------
    def publish_catalog(
        self, catalog: PublishedCatalog, forms: list[FormDefinitionRecord]
    ) -> PublishedCatalog:
        """Record the forms and make ``catalog`` current, atomically.

        If the same version (same content) was published before, that earlier record
        becomes current again and is returned (its ``created_at`` and signature stay).

        Raises:
            FormVersionConflict: a form version exists with different content.
        """
        ...

    def current_catalog(self) -> PublishedCatalog | None:
        """The catalog published last, if any."""
        ...

    def form_definition(self, service_id: str, form_version: str) -> FormDefinitionRecord | None:
        """A published form version's definition."""
        ...

    def service_known(self, service_id: str) -> bool:
        """Whether any version of this service was ever published."""
        ...

    # --- submissions and case status ------------------------------------------------------
    def find_submission(self, submission_id: str) -> SubmissionRecord | None:
        """A stored submission by its id."""
        ...

    def existing_submissions(self, submission_ids: list[str]) -> dict[str, SubmissionRecord]:
        """The stored ones among these submission ids (records without answers)."""
        ...

    def insert_submissions(self, news: list[NewSubmission]) -> list[InsertOutcome]:
        """Store submissions in one transaction; one outcome per submission, in order.

        Each new one gets its case number and the status ``received``. A submission id
        stored before (also by a concurrent call, or earlier in ``news``) gives that stored
        record with ``created=False``; a receipt number held by another submission gives
        ``receipt_conflict=True`` and stores nothing for that one. The others still commit.
        """
        ...

    def get_submission(self, key: str) -> SubmissionRecord | None:
        """A submission by submission id, case number or receipt number."""
        ...

    def submission_by_receipt(self, receipt_no: str) -> SubmissionRecord | None:
        """A submission by its receipt number."""
        ...

    def list_submissions(self, *, limit: int | None = None) -> list[SubmissionRecord]:
        """Submissions, oldest first (without answers)."""
        ...

    def set_case_status(
        self, case_no: str, status: str, note: str | None, *, now: datetime
    ) -> StatusChangeRecord:
        """Record a status change of a case.

        Raises:
            CaseNotFound
        """
        ...

    def status_changes(
        self, since: int, limit: int, *, site_code: str | None = None
    ) -> list[StatusChangeRecord]:
        """Changes with ``cursor > since``, oldest first, at most ``limit``."""
        ...

    def case_history(self, case_no: str) -> list[StatusChangeRecord]:
        """All status changes of one case, oldest first."""
        ...

    # --- attachments -------------------------------------------------------------------------
    def add_attachment(self, record: AttachmentRecord) -> None:
        """Record a complete, verified attachment (idempotent)."""
        ...

    def complete_attachments(self, hashes: list[str]) -> set[str]:
        """Which of these hashes are complete attachments."""
        ...

    def upload_length(self, device_id: str, sha256: str) -> int | None:
        """The total length a device declared for its upload of ``sha256``."""
        ...

    def set_upload_length(self, device_id: str, sha256: str, length: int | None) -> None:
        """Remember (or with ``None`` forget) a device's declared upload length."""
        ...

    # --- the database itself -------------------------------------------------------------
    def close(self) -> None:
        """Release the database connections (the platform stops)."""
        ...
