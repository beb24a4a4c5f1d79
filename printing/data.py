"""What goes on paper: the receipt and the queue ticket as plain, frozen data.

These are the boundary between the application (which knows the submission, the service
guide and the hall) and the layouts (which know only paper). Personal values arrive
already masked; :class:`ReceiptData` refuses an ID number that is not, so a bug upstream
can never put a full ID number on paper.

Both serialise to JSON (:meth:`ReceiptData.to_json`) so the print queue can keep exactly
what was printed and reprint it later, even after the catalog has changed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

# A full resident ID number (18, or first-generation 15) with no mask character in it.
_FULL_ID_RE = re.compile(r"\d{17}[\dXx]|\d{15}")


@dataclass(frozen=True)
class Bilingual:
    """One piece of text in Chinese (printed first, larger) and English (smaller)."""

    zh: str
    en: str

    @classmethod
    def from_mapping(cls, value: Any) -> Bilingual:
        """Build from ``{"zh_CN": ..., "en": ...}`` (or ``zh``), an ``I18nText`` or a plain string."""
        if isinstance(value, Bilingual):
            return value
        if isinstance(value, str):
            return cls(value, value)
        if hasattr(value, "zh_CN") and hasattr(value, "en"):  # forms.I18nText
            return cls(str(value.zh_CN), str(value.en))
        zh = value.get("zh_CN") or value.get("zh") or value.get("en") or ""
        en = value.get("en") or zh
        return cls(str(zh), str(en))

    def as_dict(self) -> dict[str, str]:
        """``{"zh": ..., "en": ...}``."""
        return {"zh": self.zh, "en": self.en}


def _bilingual_or_none(value: Any) -> Bilingual | None:
    return None if value is None else Bilingual.from_mapping(value)


@dataclass(frozen=True)
class ReceiptData:
    """Everything a submission receipt (受理回执) shows.

    ``applicant_name`` and ``id_number`` are masked values (``张*三``,
    ``110105********002X``). ``submitted_at`` must be timezone-aware and is printed in its
    own timezone, so convert it to the hall's local time first. ``expected_completion`` is
    a date counted in working days (see :mod:`printing.workdays`). ``materials_to_bring``
    lists what the citizen must still bring to the window, already worded.
    """

    receipt_no: str
    hall_name: Bilingual
    service_name: Bilingual
    applicant_name: str
    id_number: str
    submitted_at: datetime
    legal_working_days: int | None = None
    promised_working_days: int | None = None
    expected_completion: date | None = None
    materials_to_bring: tuple[Bilingual, ...] = ()
    where: Bilingual | None = None
    note: Bilingual | None = None
    contact_phone: str | None = None
    is_test: bool = False

    def __post_init__(self) -> None:
        if not self.receipt_no.strip():
            raise ValueError("a receipt needs its receipt number")
        if self.submitted_at.tzinfo is None:
            raise ValueError("submitted_at must be timezone-aware (print it in the hall's local time)")
        compact = "".join(self.id_number.split())
        if _FULL_ID_RE.fullmatch(compact):
            raise ValueError("id_number must be masked before it reaches a receipt (use sync.masking)")

    def to_json(self) -> str:
        """The receipt as JSON (masked values only), for the print queue."""
        return json.dumps(
            {
                "receipt_no": self.receipt_no,
                "hall_name": self.hall_name.as_dict(),
                "service_name": self.service_name.as_dict(),
                "applicant_name": self.applicant_name,
                "id_number": self.id_number,
                "submitted_at": self.submitted_at.isoformat(),
                "legal_working_days": self.legal_working_days,
                "promised_working_days": self.promised_working_days,
                "expected_completion": self.expected_completion.isoformat() if self.expected_completion else None,
                "materials_to_bring": [m.as_dict() for m in self.materials_to_bring],
                "where": self.where.as_dict() if self.where else None,
                "note": self.note.as_dict() if self.note else None,
                "contact_phone": self.contact_phone,
                "is_test": self.is_test,
            },
            ensure_ascii=False,
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> ReceiptData:
        """Read a receipt written by :meth:`to_json`."""
        d = json.loads(text)
        return cls(
            receipt_no=d["receipt_no"],
            hall_name=Bilingual.from_mapping(d["hall_name"]),
            service_name=Bilingual.from_mapping(d["service_name"]),
            applicant_name=d.get("applicant_name", ""),
            id_number=d.get("id_number", ""),
            submitted_at=datetime.fromisoformat(d["submitted_at"]),
            legal_working_days=d.get("legal_working_days"),
            promised_working_days=d.get("promised_working_days"),
            expected_completion=date.fromisoformat(d["expected_completion"]) if d.get("expected_completion") else None,
            materials_to_bring=tuple(Bilingual.from_mapping(m) for m in d.get("materials_to_bring") or ()),
            where=_bilingual_or_none(d.get("where")),
            note=_bilingual_or_none(d.get("note")),
            contact_phone=d.get("contact_phone"),
            is_test=bool(d.get("is_test", False)),
        )


@dataclass(frozen=True)
class TicketData:
    """Everything a queue ticket (排队号) shows.

    ``qr_payload`` is what the ticket's QR code holds; by default the ticket number.
    """

    ticket_no: str
    hall_name: Bilingual
    service_name: Bilingual
    waiting_ahead: int
    issued_at: datetime
    window: Bilingual | None = None
    qr_payload: str | None = None
    is_test: bool = False

    def __post_init__(self) -> None:
        if not self.ticket_no.strip():
            raise ValueError("a ticket needs its ticket number")
        if self.waiting_ahead < 0:
            raise ValueError(f"waiting_ahead must be 0 or more, got {self.waiting_ahead}")
        if self.issued_at.tzinfo is None:
            raise ValueError("issued_at must be timezone-aware")

    @property
    def qr_text(self) -> str:
        """The text encoded in the ticket's QR code."""
        return self.qr_payload or self.ticket_no

    def to_json(self) -> str:
        """The ticket as JSON, for the print queue."""
        return json.dumps(
            {
                "ticket_no": self.ticket_no,
                "hall_name": self.hall_name.as_dict(),
                "service_name": self.service_name.as_dict(),
                "waiting_ahead": self.waiting_ahead,
                "issued_at": self.issued_at.isoformat(),
                "window": self.window.as_dict() if self.window else None,
                "qr_payload": self.qr_payload,
                "is_test": self.is_test,
            },
            ensure_ascii=False,
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> TicketData:
        """Read a ticket written by :meth:`to_json`."""
        d = json.loads(text)
        return cls(
            ticket_no=d["ticket_no"],
            hall_name=Bilingual.from_mapping(d["hall_name"]),
            service_name=Bilingual.from_mapping(d["service_name"]),
            waiting_ahead=int(d["waiting_ahead"]),
            issued_at=datetime.fromisoformat(d["issued_at"]),
            window=_bilingual_or_none(d.get("window")),
            qr_payload=d.get("qr_payload"),
            is_test=bool(d.get("is_test", False)),
        )
