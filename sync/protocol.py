"""The wire protocol (v1) between a terminal and the central platform: every JSON body.

Both sides import these models: the central platform uses them as its FastAPI request and
response models (so ``/openapi.json`` is exact), the terminal's client parses answers with
them. ``docs/protocol.md`` explains the rules around them (auth, idempotency, retries).

Conventions:

* Binary values (keys, sealed boxes, signatures, the catalog bundle) are standard base64
  with padding (RFC 4648 section 4) in JSON strings.
* Times are ISO 8601 with a UTC offset.
* Submission ids are UUIDs in canonical lower-case text form; that exact text, UTF-8
  encoded, is the sealing context of the submission's payload.
* SHA-256 values are 64 lower-case hex characters.
* Reason codes, status values and problem codes are plain strings so a newer server can
  add values without breaking an older terminal; the known values are constants here.

This module imports only the standard library and pydantic: it is shared by the terminal
and the central platform and must stay free of either side's code.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

PROTOCOL_VERSION = 1
API_PREFIX = "/v1"

# --- limits (the server answers 413 problem+json beyond them) -------------------------------
MAX_BATCH_ITEMS = 500
MAX_BATCH_BYTES = 8 * 1024 * 1024
MAX_ATTACHMENT_BYTES = 32 * 1024 * 1024  # sealed size of one attachment
MAX_CHUNK_BYTES = 8 * 1024 * 1024  # one PUT / PATCH body of an attachment upload
MAX_STATUS_PAGE = 1000
# The largest integer SQLite stores: cursors, sequence numbers and local ids above it are
# refused as invalid (422) instead of failing in the database (500).
MAX_INTEGER = 2**63 - 1
DEFAULT_STATUS_PAGE = 500

# --- attachment upload headers (tus-style names) --------------------------------------------
UPLOAD_OFFSET_HEADER = "Upload-Offset"  # bytes already received / where this chunk starts
UPLOAD_LENGTH_HEADER = "Upload-Length"  # total sealed length of the attachment
UPLOAD_COMPLETE_HEADER = "Upload-Complete"  # "?1" once stored and verified, else "?0"

PROBLEM_CONTENT_TYPE = "application/problem+json"

_UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
SHA256_PATTERN = r"^[0-9a-f]{64}$"


class ItemStatus:
    """The outcome of one item of a batch (:attr:`ItemResult.status`)."""

    ACCEPTED = "accepted"  # stored now; case_no assigned
    DUPLICATE = "duplicate"  # stored before under this submission_id; same case_no. Success.
    REJECTED = "rejected"  # not stored; see reason / retryable


class RejectReason:
    """Known values of :attr:`ItemResult.reason` for a rejected item."""

    ITEM_INVALID = "item_invalid"  # the item does not match SubmissionItem; see errors
    SEALED_PAYLOAD_INVALID = "sealed_payload_invalid"  # not base64 / box does not open
    PAYLOAD_INVALID = "payload_invalid"  # opened, but not {"answers": {...}} JSON
    UNKNOWN_SERVICE = "unknown_service"  # service id never published
    UNKNOWN_FORM_VERSION = "unknown_form_version"  # service known, that version not
    ANSWERS_INVALID = "answers_invalid"  # schema or rule violations; see errors
    ATTACHMENT_MISSING = "attachment_missing"  # retryable: upload it, then resend
    RECEIPT_NO_CONFLICT = "receipt_no_conflict"  # another submission holds this receipt_no
    INTERNAL_ERROR = "internal_error"  # retryable: the platform failed on this item


class CaseStatus:
    """Known case status values, in their usual order.

    ``received`` is recorded by the platform when it accepts a submission; staff set the
    others with ``kiosk-central case set-status``. Any status may follow any other.
    """

    RECEIVED = "received"  # accepted by the platform
    IN_REVIEW = "in_review"  # a case worker is looking at it
    MORE_INFO_NEEDED = "more_info_needed"  # the applicant must bring or send something
    APPROVED = "approved"
    REJECTED = "rejected"  # refused on the merits (not a protocol rejection)
    READY_FOR_COLLECTION = "ready_for_collection"  # collect at the window with the receipt
    COMPLETED = "completed"  # handed over / closed
    WITHDRAWN = "withdrawn"  # the applicant withdrew

    ALL: tuple[str, ...] = (
        RECEIVED,
        IN_REVIEW,
        MORE_INFO_NEEDED,
        APPROVED,
        REJECTED,
        READY_FOR_COLLECTION,
        COMPLETED,
        WITHDRAWN,
    )


class ProblemCode:
    """Known values of :attr:`Problem.code` (the ``type`` is ``urn:tongban:problem:<code>``)."""

    UNAUTHORIZED = "unauthorized"  # 401: no / unknown bearer token
    DEVICE_REVOKED = "device_revoked"  # 403: the device was revoked; re-enrol it
    ENROLMENT_CODE_INVALID = "enrolment_code_invalid"  # 400: unknown code
    ENROLMENT_CODE_USED = "enrolment_code_used"  # 409: used before
    ENROLMENT_CODE_EXPIRED = "enrolment_code_expired"  # 410: past its expiry
    VALIDATION_ERROR = "validation_error"  # 422: the body does not match the model
    PAYLOAD_TOO_LARGE = "payload_too_large"  # 413: body, batch or attachment too big
    NOT_FOUND = "not_found"  # 404
    METHOD_NOT_ALLOWED = "method_not_allowed"  # 405
    UPLOAD_OFFSET_MISMATCH = "upload_offset_mismatch"  # 409: see ``offset``; resume there
    UPLOAD_LENGTH_MISMATCH = "upload_length_mismatch"  # 409: Upload-Length changed mid-way
    ATTACHMENT_HASH_MISMATCH = "attachment_hash_mismatch"  # 422: plaintext hash differs
    ATTACHMENT_UNREADABLE = "attachment_unreadable"  # 422: sealed box does not open
    RATE_LIMITED = "rate_limited"  # 429: too many of these lately; see Retry-After
    INTERNAL_ERROR = "internal_error"  # 500

    @staticmethod
    def type_uri(code: str) -> str:
        """The RFC 9457 ``type`` URI of a problem code."""
        return f"urn:tongban:problem:{code}"


def problem_code_of(type_uri: str) -> str:
    """The code in a ``urn:tongban:problem:<code>`` type URI (``""`` for another URI)."""
    prefix = "urn:tongban:problem:"
    return type_uri[len(prefix) :] if type_uri.startswith(prefix) else ""


def b64encode(data: bytes) -> str:
    """Standard base64 with padding, as every binary value on the wire."""
    return base64.b64encode(data).decode("ascii")


def b64decode(text: str) -> bytes:
    """Decode standard base64 strictly; raises ``ValueError`` on anything else."""
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise ValueError("not valid base64") from exc


def canonical_json(value: Any) -> bytes:
    """The canonical JSON bytes used for signing and content hashes.

    Keys sorted, no insignificant whitespace, UTF-8 without ``\\u`` escapes for non-ASCII,
    no NaN/Infinity. Terminals never need to re-create these bytes to verify a catalog:
    the signature covers the exact bytes carried in :attr:`CatalogBundle.bundle`.
    """
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    """Lower-case hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


class _Model(BaseModel):
    # Unknown fields are ignored so either side can add optional fields in v1.
    model_config = ConfigDict(extra="ignore")


# --- errors ---------------------------------------------------------------------------------


class FieldError(_Model):
    """One problem with one answer (or one part of a request body).

    Messages never echo the submitted value: they end up in logs and dead-letter views.
    """

    field: str = Field(description="Field id of the answer (or dotted path in a request body).")
    code: str = Field(description="Machine-readable kind, e.g. required, pattern, max_length.")
    message: str = Field("", description="Short English explanation without the value.")


class Problem(_Model):
    """An RFC 9457 problem detail, served as ``application/problem+json``."""

    model_config = ConfigDict(extra="allow")

    type: str = Field("about:blank", description="urn:tongban:problem:<code> or about:blank.")
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    code: str | None = Field(None, description="The <code> of the type URI (ProblemCode).")
    errors: list[FieldError] | None = Field(
        None, description="Field problems, for validation errors."
    )
    offset: int | None = Field(
        None, description="upload_offset_mismatch: the offset the server holds."
    )


# --- enrolment ------------------------------------------------------------------------------


class EnrolRequest(_Model):
    """``POST /v1/enrol``: exchange a one-time enrolment code for a device credential."""

    code: str = Field(
        min_length=4,
        max_length=64,
        description="The code as typed or scanned; case, spaces and '-' are ignored.",
    )
    device_name: str | None = Field(
        None, max_length=100, description="Optional label (host name) shown to admins."
    )


class EnrolResponse(_Model):
    """The device's identity and the platform's public keys."""

    device_id: str = Field(description="Stable id of this device at the platform (UUID).")
    device_code: str = Field(
        description="Short code (3 of A-Z0-9) unique per platform, for receipt numbers."
    )
    token: str = Field(description="Bearer token for every other call. Shown once; keep it.")
    site_code: str = Field(description="The service hall's code (A-Z0-9, 2-8 chars).")
    sealing_public_key: str = Field(description="X25519 public key, raw 32 bytes, base64.")
    catalog_signing_public_key: str = Field(
        description="Ed25519 public key, raw 32 bytes, base64."
    )
    appointment_signing_public_key: str | None = Field(
        None,
        description="Ed25519 public key that signs appointment tokens, raw 32 bytes, base64. "
        "Absent from platforms older than the hall features.",
    )
    protocol_version: int = PROTOCOL_VERSION


# --- catalog --------------------------------------------------------------------------------


class CatalogBundle(_Model):
    """``GET /v1/catalog``: the signed catalog envelope.

    ``bundle`` is base64 of the canonical JSON of a :class:`CatalogContent`;
    ``signature`` is the Ed25519 signature of exactly those decoded bytes (nothing else
    is signed). Verify the signature with the catalog signing key from enrolment before
    parsing ``bundle``; then check the content's ``version`` equals this ``version``.
    """

    format: int = Field(1, description="Envelope format.")
    version: str = Field(description="Content hash of the catalog; also the ETag.")
    bundle: str = Field(description="base64 of the canonical JSON bytes of CatalogContent.")
    signature: str = Field(description="base64 of the 64-byte Ed25519 signature of bundle.")

    def bundle_bytes(self) -> bytes:
        """The signed bytes (raises ``ValueError`` if not base64)."""
        return b64decode(self.bundle)

    def signature_bytes(self) -> bytes:
        """The raw signature (raises ``ValueError`` if not base64)."""
        return b64decode(self.signature)


class CatalogContent(_Model):
    """What a catalog bundle holds once its signature is verified."""

    format: int = Field(1, description="Bundle content format.")
    version: str = Field(
        description="sha256 hex of canonical_json({format, categories, services})."
    )
    created_at: datetime
    categories: list[dict[str, Any]] = Field(description="categories.yaml's list, as loaded.")
    services: list[dict[str, Any]] = Field(description="Each service definition, as loaded.")


def catalog_content_version(
    fmt: int, categories: list[dict[str, Any]], services: list[dict[str, Any]]
) -> str:
    """The content hash that names a catalog version (``created_at`` is not part of it)."""
    return sha256_hex(
        canonical_json({"format": fmt, "categories": categories, "services": services})
    )


# --- submissions ----------------------------------------------------------------------------


class SubmissionItem(_Model):
    """One submission in a batch. ``submission_id`` is the idempotency key."""

    submission_id: str = Field(
        pattern=_UUID_PATTERN, description="UUID (v7 from terminals), lower-case canonical."
    )
    service_id: str = Field(min_length=1, max_length=100)
    form_version: str = Field(min_length=1, max_length=50)
    receipt_no: str = Field(min_length=1, max_length=64)
    created_at: AwareDatetime = Field(
        description="When the citizen submitted at the terminal; date rules use its date."
    )
    is_test: bool = Field(
        False, description="Test / example submission; attachments need not be uploaded."
    )
    sealed_payload: str = Field(
        description='base64 of seal(key, UTF-8 JSON {"answers": {...}}, '
        "context=submission_id UTF-8)."
    )
    attachments: list[str] = Field(
        default_factory=list,
        description="sha256 (plaintext) of each attachment uploaded for this submission.",
    )
    agent_id: str | None = Field(
        None,
        max_length=64,
        description="Staff account that submitted on the citizen's behalf (代办); must equal "
        "meta.agent_id inside the sealed payload.",
    )


class BatchRequest(_Model):
    """``POST /v1/submissions/batch``."""

    items: list[SubmissionItem] = Field(
        json_schema_extra={"maxItems": MAX_BATCH_ITEMS},
        description=f"At most {MAX_BATCH_ITEMS} items (more answers 413). Each item is "
        "checked on its own: one that does not match SubmissionItem is rejected with "
        "reason item_invalid while the others go on.",
    )


class ItemResult(_Model):
    """The answer for one item, in the same order as the request's items."""

    submission_id: str
    status: Literal["accepted", "duplicate", "rejected"]
    case_no: str | None = Field(None, description="Set for accepted and duplicate.")
    reason: str | None = Field(None, description="RejectReason, for rejected items.")
    detail: str | None = Field(None, description="Human-readable reason, no personal data.")
    retryable: bool = Field(
        False, description="Rejected for now (e.g. attachment not uploaded yet): resend later."
    )
    errors: list[FieldError] = Field(default_factory=list)


class BatchResponse(_Model):
    """Per-item results; the HTTP status is 200 whenever the batch itself was readable."""

    results: list[ItemResult]


# --- attachments ----------------------------------------------------------------------------


class AttachmentStatus(_Model):
    """``GET``/``PUT``/``PATCH /v1/attachments/{sha256}``: the state of one upload."""

    sha256: str
    complete: bool = Field(description="Stored and verified; nothing more to send.")
    received: int = Field(description="Sealed bytes received so far (the next offset).")
    length: int | None = Field(None, description="Declared total sealed length, if known.")


# --- case status ----------------------------------------------------------------------------


class StatusChange(_Model):
    """One change of a case's status."""

    cursor: int = Field(description="Position in the change feed; strictly increasing.")
    case_no: str
    receipt_no: str
    submission_id: str
    service_id: str
    status: str = Field(description="A CaseStatus value.")
    note: str | None = None
    changed_at: datetime


class StatusPage(_Model):
    """``GET /v1/status?since=CURSOR&limit=N``: changes after ``since``, oldest first."""

    changes: list[StatusChange]
    next_cursor: int = Field(description="Pass as ``since`` next time (``since`` if empty).")
    has_more: bool = Field(description="Another page is ready now.")


class ReceiptLookup(_Model):
    """``GET /v1/receipts/{receipt_no}``: a receipt's case and its current status."""

    receipt_no: str
    case_no: str
    submission_id: str
    service_id: str
    form_version: str
    site_code: str
    received_at: datetime
    status: str
    status_note: str | None = None
    status_changed_at: datetime
    history: list[StatusChange] = Field(default_factory=list, description="Oldest first.")


class Health(_Model):
    """``GET /v1/health`` (no auth)."""

    status: Literal["ok"] = "ok"
    protocol_version: int = PROTOCOL_VERSION
    catalog_version: str | None = None


# --- the hall: check-ins, ratings, audit events, help requests ------------------------------

MAX_RECORD_BATCH = 500
GENESIS_HASH = "0" * 64


class RecordStatus:
    """The outcome of one hall record in a batch (:attr:`RecordResult.status`)."""

    ACCEPTED = "accepted"  # stored now
    DUPLICATE = "duplicate"  # stored before under this id. Success.
    REJECTED = "rejected"  # not stored; see reason


class RecordRejectReason:
    """Known values of :attr:`RecordResult.reason`."""

    ITEM_INVALID = "item_invalid"  # does not match the model
    APPOINTMENT_UNKNOWN = "appointment_unknown"  # no appointment has this id
    APPOINTMENT_USED = "appointment_used"  # another check-in used the appointment first
    CHAIN_BROKEN = "chain_broken"  # audit entry's hash or link does not verify (still stored)


class RecordResult(_Model):
    """The answer for one hall record, in the same order as the request's items."""

    id: str = Field(description="The record's idempotency key as sent.")
    status: Literal["accepted", "duplicate", "rejected"]
    reason: str | None = None
    detail: str | None = None


class RecordBatchResponse(_Model):
    """Per-record results of a hall batch."""

    results: list[RecordResult]


class CheckinItem(_Model):
    """One check-in (with an appointment) or walk-in ticket. ``checkin_id`` is the key."""

    checkin_id: str = Field(pattern=_UUID_PATTERN)
    kind: Literal["appointment", "walk_in"]
    appointment_id: str | None = Field(None, max_length=64)
    service_id: str | None = Field(None, max_length=100)
    category: str | None = Field(None, max_length=100)
    ticket_no: str = Field(min_length=1, max_length=16)
    checked_in_at: AwareDatetime


class CheckinBatch(_Model):
    """``POST /v1/checkins/batch``."""

    items: list[CheckinItem] = Field(max_length=MAX_RECORD_BATCH)


class RatingItem(_Model):
    """One satisfaction rating (好差评); ``rating_id`` is the terminal's local number."""

    rating_id: int = Field(ge=1, le=MAX_INTEGER)
    service_id: str = Field(min_length=1, max_length=100)
    receipt_no: str | None = Field(None, max_length=64)
    score: int = Field(ge=1, le=5)
    tags: list[str] = Field(default_factory=list, max_length=20)
    created_at: AwareDatetime


class RatingBatch(_Model):
    """``POST /v1/ratings/batch``: idempotent per (device, rating_id)."""

    items: list[RatingItem] = Field(max_length=MAX_RECORD_BATCH)


class AuditItem(_Model):
    """One entry of a terminal's hash-chained audit log, exactly as stored there.

    ``hash`` is :func:`audit_entry_hash` of the other fields; ``prev_hash`` is the hash of
    entry ``seq - 1`` (:data:`GENESIS_HASH` for the first one).
    """

    seq: int = Field(ge=1, le=MAX_INTEGER)
    at: str = Field(max_length=40, description="The terminal's stored UTC text of the time.")
    actor: str = Field(max_length=100)
    action: str = Field(max_length=64)
    submission_id: str | None = Field(None, max_length=64)
    detail: str | None = Field(None, max_length=2000)
    prev_hash: str = Field(pattern=SHA256_PATTERN)
    hash: str = Field(pattern=SHA256_PATTERN)


class AuditBatch(_Model):
    """``POST /v1/audit/batch``: idempotent per (device, seq)."""

    items: list[AuditItem] = Field(max_length=MAX_RECORD_BATCH)


def audit_entry_hash(
    prev_hash: str,
    seq: int,
    at: str,
    actor: str,
    action: str,
    submission_id: str | None,
    detail: str | None,
) -> str:
    """SHA-256 hex of an audit entry's canonical encoding, chained to ``prev_hash``.

    The encoding is :func:`canonical_json` of the list ``[prev_hash, seq, at, actor, action,
    submission_id, detail]``: editing a field changes this entry's hash, deleting or moving
    an entry breaks the next entry's link (its ``prev_hash`` and ``seq``).
    """
    return sha256_hex(canonical_json([prev_hash, seq, at, actor, action, submission_id, detail]))


class UsedAppointment(_Model):
    """An appointment of the device's hall that has been checked in."""

    cursor: int
    appointment_id: str
    used_at: datetime


class UsedAppointmentsPage(_Model):
    """``GET /v1/appointments/used?since=CURSOR``: used appointments after ``since``."""

    items: list[UsedAppointment]
    next_cursor: int
    has_more: bool


class HelpRequestCreate(_Model):
    """``POST /v1/help-requests``: a kiosk's "call staff"; ``request_id`` is the key."""

    request_id: str = Field(pattern=_UUID_PATTERN)
    raised_at: AwareDatetime
    reason: str = Field("assistance", max_length=64, description="A predefined reason code.")


class HelpRequest(_Model):
    """A help request as agent stations of the hall see it."""

    request_id: str
    site_code: str
    device_id: str
    device_code: str
    reason: str
    raised_at: datetime
    state: Literal["open", "acknowledged"]
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None


class HelpRequestList(_Model):
    """``GET /v1/help-requests``: the hall's open requests, oldest first."""

    requests: list[HelpRequest]


class HelpAcknowledge(_Model):
    """``POST /v1/help-requests/{id}/ack``: who at the hall took it."""

    staff: str = Field(min_length=1, max_length=64)
