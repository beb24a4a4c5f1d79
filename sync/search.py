"""Searching the terminal's submissions for staff, on the clear masked summaries only.

The terminal keeps a citizen's ID number only masked (``110105********002X``) in the clear;
the full number is sealed for the central platform and cannot be read here. A search by
ID number therefore masks what staff typed the same way and compares masked forms: a full
number finds that person's submissions (and, rarely, another person's whose number shares
the first six and last four characters, which staff tell apart by name and service). A
masked number as printed on a receipt, or only the last four characters, works as well.

Receipt numbers are read tolerantly (lower case, spaces, missing dashes), and a day is the
terminal's local calendar day.
"""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sync.masking import mask_id_number
from sync.outbox import QueueEntry, UnknownSubmission
from sync.store import Store
from sync.store_common import to_db_time

log = logging.getLogger(__name__)

MAX_RESULTS = 200


class SearchError(ValueError):
    """The search cannot be run as asked; the message says what to give instead."""


@dataclass(frozen=True)
class SearchQuery:
    """What staff look for: one or more of receipt number, ID number and local day (all must match)."""

    receipt_no: str = ""
    id_number: str = ""
    day: date | None = None

    @property
    def empty(self) -> bool:
        """True when nothing was given to search by."""
        return not (self.receipt_no.strip() or self.id_number.strip() or self.day)


def _clean_id(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).upper()


def id_number_matcher(text: str) -> tuple[str, str]:
    """How a typed ID number is compared: ``("exact", masked)`` or ``("suffix", last characters)``.

    A full (15 or 18 character) number, or one typed already masked with ``*``, is compared
    masked and whole; 4 to 14 characters without ``*`` are compared with the end of the
    masked number (the last four digits staff read out). Raises :class:`SearchError` otherwise.
    """
    clean = _clean_id(text)
    if "*" in clean:
        return "exact", clean
    if len(clean) >= 15:
        return "exact", mask_id_number(clean)
    if len(clean) >= 4:
        return "suffix", clean
    raise SearchError("give the whole ID number, the masked one from the receipt, or at least its last 4 characters")


def _day_range(day: date) -> tuple[str, str]:
    start = datetime.combine(day, time.min).astimezone()
    return to_db_time(start), to_db_time(start + timedelta(days=1))


def search_submissions(store: Store, query: SearchQuery, *, limit: int = MAX_RESULTS) -> list[QueueEntry]:
    """The submissions matching every part of ``query``, newest first (at most ``limit``).

    Raises :class:`SearchError` when the query is empty or its ID number unusable.
    """
    if query.empty:
        raise SearchError("give a receipt number, an ID number or a date to search by")
    matcher = id_number_matcher(query.id_number) if query.id_number.strip() else None
    if query.receipt_no.strip():
        try:
            candidates = [store.find(query.receipt_no)]
        except UnknownSubmission:
            return []
        if candidates[0].receipt_no.replace("-", "") != _clean_id(query.receipt_no).replace("-", ""):
            # find() also takes ids and case numbers; a receipt search wants a receipt
            if candidates[0].case_no != query.receipt_no.strip():
                return []
    else:
        candidates = store.list_queue()
    if query.day is not None:
        start, end = _day_range(query.day)
        candidates = [e for e in candidates if start <= to_db_time(e.created_at) < end]
    if matcher is not None:
        how, wanted = matcher
        masked = [(e, _clean_id(e.summary.id_number)) for e in candidates]
        if how == "exact":
            candidates = [e for e, number in masked if number == wanted]
        else:
            candidates = [e for e, number in masked if number and number.endswith(wanted)]
    candidates.sort(key=lambda e: e.created_at, reverse=True)
    return candidates[:limit]
