"""A submission as plain data: its attachments, its sealed payload and its masked summary.

The payload is what the central platform opens: the UTF-8 bytes of
``{"answers": {...}}`` (``json.dumps(..., ensure_ascii=False, sort_keys=True)``), sealed
with the submission id as context. Attachments are sealed separately, each with the hex
SHA-256 of its plaintext as context, and the answers refer to them by that hash
(``{"sha256", "size", "mime", "name"}``), so an upload is content-addressed and verified.

The summary is the only clear record the terminal keeps: service, time and masked values,
enough for staff to recognise a submission and for a receipt to be reprinted.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sync.masking import mask_id_number, mask_mobile, mask_name
from sync.sealing import seal
from sync.store_common import from_db_time, to_db_time

# Well-known field ids the summary is derived from (see catalog definitions).
NAME_FIELD = "name"
ID_NUMBER_FIELD = "id_number"
MOBILE_FIELD = "mobile"
_REF_KEYS = frozenset({"sha256", "size", "mime"})


@dataclass(frozen=True)
class Attachment:
    """A file the citizen handed in (a scan, a photo, a signature), in clear, in memory.

    ``sha256`` and ``size`` are computed from ``content``; ``name`` travels only inside the
    sealed payload (a file name can be personal data) and is never stored in clear.
    """

    content: bytes = field(repr=False)
    mime: str
    name: str = ""
    sha256: str = field(init=False)
    size: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sha256", hashlib.sha256(self.content).hexdigest())
        object.__setattr__(self, "size", len(self.content))

    def ref(self) -> dict[str, Any]:
        """How answers refer to this file: ``{"sha256", "size", "mime", "name"}``."""
        ref: dict[str, Any] = {"sha256": self.sha256, "size": self.size, "mime": self.mime}
        if self.name:
            ref["name"] = self.name
        return ref

    def sealed(self, public_key: bytes) -> bytes:
        """The file sealed to ``public_key`` with its hex SHA-256 (ASCII) as context."""
        return seal(public_key, self.content, context=self.sha256.encode("ascii"))


@dataclass(frozen=True)
class SubmissionSummary:
    """The clear part of a submission: what staff see and a reprinted receipt shows.

    Personal values are masked (``张*三``, ``110105********002X``, ``138****8000``).
    ``service_name`` maps language codes (``zh_CN``, ``en``) to the service's name.
    """

    service_id: str
    service_name: Mapping[str, str]
    created_at: datetime
    applicant_name: str
    id_number: str
    mobile: str
    is_test: bool
    agent_id: str | None = None  # staff account that submitted on the citizen's behalf
    session_seconds: float | None = None  # how long the citizen's session took, if measured

    def to_json(self) -> str:
        """The summary as stored in the ``submissions.summary`` column."""
        extra: dict[str, Any] = {}
        if self.agent_id:
            extra["agent_id"] = self.agent_id
        if self.session_seconds is not None:
            extra["session_seconds"] = self.session_seconds
        return json.dumps(
            {
                **extra,
                "service_id": self.service_id,
                "service_name": dict(self.service_name),
                "created_at": to_db_time(self.created_at),
                "applicant_name": self.applicant_name,
                "id_number": self.id_number,
                "mobile": self.mobile,
                "is_test": self.is_test,
            },
            ensure_ascii=False,
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> SubmissionSummary:
        """Read a summary written by :meth:`to_json`."""
        data = json.loads(text)
        return cls(
            service_id=data["service_id"],
            service_name=dict(data.get("service_name") or {}),
            created_at=from_db_time(data["created_at"]),
            applicant_name=data.get("applicant_name", ""),
            id_number=data.get("id_number", ""),
            mobile=data.get("mobile", ""),
            is_test=bool(data.get("is_test", False)),
            agent_id=data.get("agent_id"),
            session_seconds=data.get("session_seconds"),
        )

    def as_dict(self) -> dict[str, Any]:
        """The summary as JSON-ready data (for ``--json`` output and receipts)."""
        return {
            "service_id": self.service_id,
            "service_name": dict(self.service_name),
            "created_at": self.created_at.isoformat(),
            "applicant_name": self.applicant_name,
            "id_number": self.id_number,
            "mobile": self.mobile,
            "is_test": self.is_test,
            "agent_id": self.agent_id,
            "session_seconds": self.session_seconds,
        }


@dataclass(frozen=True)
class EnqueuedSubmission:
    """A submission that is durably committed: what the screen shows and the receipt prints."""

    submission_id: str
    receipt_no: str
    service_id: str
    form_version: str
    created_at: datetime
    is_test: bool
    summary: SubmissionSummary


def summarise(
    service_id: str,
    service_name: Mapping[str, str] | str | None,
    answers: Mapping[str, Any],
    created_at: datetime,
    is_test: bool,
    *,
    agent_id: str | None = None,
    session_seconds: float | None = None,
) -> SubmissionSummary:
    """Build the masked summary from the well-known fields ``name``, ``id_number``, ``mobile``."""
    if isinstance(service_name, str):
        names: Mapping[str, str] = {"zh_CN": service_name, "en": service_name}
    else:
        names = dict(service_name or {})

    def text(field_id: str) -> str | None:
        value = answers.get(field_id)
        return value if isinstance(value, str) else None

    return SubmissionSummary(
        service_id=service_id,
        service_name=names,
        created_at=created_at,
        applicant_name=mask_name(text(NAME_FIELD)),
        id_number=mask_id_number(text(ID_NUMBER_FIELD)),
        mobile=mask_mobile(text(MOBILE_FIELD)),
        is_test=is_test,
        agent_id=agent_id,
        session_seconds=session_seconds,
    )


def payload_bytes(answers: Mapping[str, Any], meta: Mapping[str, Any] | None = None) -> bytes:
    """The plaintext the central platform opens: UTF-8 JSON of ``{"answers": ...}``.

    ``meta`` (``{"agent_id": ...}`` for a submission on a citizen's behalf) is added as
    ``"meta"``; without it the bytes are exactly those of earlier versions.
    """
    body: dict[str, Any] = {"answers": answers}
    if meta:
        body["meta"] = dict(meta)
    return json.dumps(body, ensure_ascii=False, sort_keys=True).encode("utf-8")


def seal_payload(
    public_key: bytes,
    submission_id: str,
    answers: Mapping[str, Any],
    *,
    meta: Mapping[str, Any] | None = None,
) -> bytes:
    """The answers (and ``meta``) sealed to ``public_key``, bound to ``submission_id``."""
    return seal(public_key, payload_bytes(answers, meta), context=submission_id.encode("utf-8"))


def is_attachment_ref(value: object) -> bool:
    """Whether ``value`` looks like an attachment reference in answers."""
    return isinstance(value, Mapping) and _REF_KEYS <= value.keys()


def iter_attachment_refs(value: object) -> Iterator[Mapping[str, Any]]:
    """Every attachment reference (``{"sha256", "size", "mime", ...}``) inside answers."""
    if is_attachment_ref(value):
        yield value  # type: ignore[misc]
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from iter_attachment_refs(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from iter_attachment_refs(item)
