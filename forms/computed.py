"""Computed values: derived from answers, usable in conditions and shown on review."""

from __future__ import annotations

import datetime as dt
from typing import Any

from forms.idnumber import age_on, birth_date_of, is_valid_id_number, sex_of

# fn name -> (type of the source field, type of the result)
FUNCTIONS: dict[str, tuple[str, str]] = {
    "age_from_id_number": ("id_number", "integer"),
    "birth_date_from_id_number": ("id_number", "date"),
    "sex_from_id_number": ("id_number", "sex"),
    "years_since": ("date", "integer"),
}


def compute(fn: str, source: Any, today: dt.date) -> Any:
    """The value of ``fn`` for the answer ``source``, or None when it cannot be derived."""
    if source is None:
        return None
    if fn in ("age_from_id_number", "birth_date_from_id_number", "sex_from_id_number"):
        if not isinstance(source, str) or not is_valid_id_number(source):
            return None
        if fn == "sex_from_id_number":
            return sex_of(source)
        birth = birth_date_of(source)
        return age_on(birth, today) if fn == "age_from_id_number" else birth.isoformat()
    if fn == "years_since":
        try:
            since = dt.date.fromisoformat(source) if isinstance(source, str) else None
        except ValueError:
            return None
        return age_on(since, today) if since else None
    raise ValueError(f"unknown computed function {fn!r}")
