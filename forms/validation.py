"""Checking one answer against its field: type, constraints, normalised value.

Every answer is untrusted (typed on a touch screen, read off a card, or received by the
central platform), so each check is total: any Python value gives either a normalised value
or messages, never an exception.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from forms.i18n import I18nText, message
from forms.idnumber import is_valid_id_number, normalize_id_number
from forms.model import ADDRESS_PARTS, Field

MOBILE_RE = re.compile(r"^1[3-9][0-9]{9}$")
# Deliberately simple: one @, a dot in the domain, no spaces. Full RFC 5322 is not the point.
EMAIL_RE = re.compile(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)+$")
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
RELATIVE_DATE_RE = re.compile(r"^today(?:([+-])([0-9]{1,3})([dmy]))?$")

DEFAULT_MAX_LENGTH = {"text": 200, "multiline": 2000, "address": 200}
MAX_ANSWER_CHARS = 10_000  # no field needs more; bounds the work done on hostile input


@dataclass(frozen=True)
class FieldMessage:
    """A problem with one answer, in both languages, next to the field it concerns."""

    field_id: str
    code: str
    params: Mapping[str, Any] = field(default_factory=dict)
    custom: I18nText | None = None

    def text(self, lang: str = "zh_CN") -> str:
        """The message in ``lang``."""
        template = self.custom or message(self.code, **self.params)
        return template.get(lang)


def resolve_date_bound(bound: str, today: dt.date) -> dt.date:
    """A date constraint: ``YYYY-MM-DD``, ``today`` or ``today±N(d|m|y)``."""
    match = RELATIVE_DATE_RE.match(bound)
    if not match:
        return dt.date.fromisoformat(bound)
    sign, amount, unit = match.groups()
    if sign is None:
        return today
    n = int(amount) * (1 if sign == "+" else -1)
    if unit == "d":
        return today + dt.timedelta(days=n)
    months = n * (12 if unit == "y" else 1)
    total = today.year * 12 + (today.month - 1) + months
    year, month = divmod(total, 12)
    month += 1
    # 31 March minus one month is the last day of February, not an error
    for day in (today.day, 30, 29, 28):
        try:
            return dt.date(year, month, day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def is_empty(value: Any) -> bool:
    """An unanswered field: None, blank text, an empty list or an empty address."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | tuple):
        return len(value) == 0
    if isinstance(value, Mapping):
        return all(is_empty(v) for v in value.values())
    return False


class _Invalid(Exception):
    def __init__(self, code: str, custom: I18nText | None = None, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.custom = custom
        self.params = params


def _text(field_: Field, value: Any) -> str:
    if not isinstance(value, str):
        raise _Invalid("not_text")
    text = value.strip()
    limit = field_.max_length or DEFAULT_MAX_LENGTH.get(field_.type, 200)
    if len(text) > limit:
        raise _Invalid("too_long", max=limit)
    if field_.min_length and len(text) < field_.min_length:
        raise _Invalid("too_short", min=field_.min_length)
    if field_.pattern and not re.fullmatch(field_.pattern, text):
        raise _Invalid("pattern", custom=field_.pattern_message)
    return text


def _integer(field_: Field, value: Any) -> int:
    if isinstance(value, bool):
        raise _Invalid("not_integer")
    if isinstance(value, str):
        value = value.strip()
        if not re.fullmatch(r"-?[0-9]{1,15}", value):
            raise _Invalid("not_integer")
        value = int(value)
    if not isinstance(value, int):
        raise _Invalid("not_integer")
    if field_.min is not None and value < field_.min:
        raise _Invalid("below_min", min=field_.min)
    if field_.max is not None and value > field_.max:
        raise _Invalid("above_max", max=field_.max)
    return value


def _decimal(field_: Field, value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _Invalid("not_decimal")
    text = str(value).strip()
    if not re.fullmatch(r"-?[0-9]{1,15}(\.[0-9]{1,10})?", text):
        raise _Invalid("not_decimal")
    try:
        number = Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the pattern excludes it
        raise _Invalid("not_decimal") from exc
    places = field_.decimals if field_.decimals is not None else 2
    if -number.as_tuple().exponent > places:  # type: ignore[operator]
        raise _Invalid("too_many_decimals", decimals=places)
    if field_.min is not None and number < field_.min:
        raise _Invalid("below_min", min=field_.min)
    if field_.max is not None and number > field_.max:
        raise _Invalid("above_max", max=field_.max)
    return f"{number:.{places}f}"


def _date(field_: Field, value: Any, today: dt.date) -> str:
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        day = value
    elif isinstance(value, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value.strip()):
        try:
            day = dt.date.fromisoformat(value.strip())
        except ValueError as exc:
            raise _Invalid("not_date") from exc
    else:
        raise _Invalid("not_date")
    if field_.min is not None:
        low = resolve_date_bound(field_.min, today)
        if day < low:
            raise _Invalid("date_too_early", min=low.isoformat())
    if field_.max is not None:
        high = resolve_date_bound(field_.max, today)
        if day > high:
            raise _Invalid("date_too_late", max=high.isoformat())
    return day.isoformat()


def _choice(field_: Field, value: Any) -> str:
    if not isinstance(value, str) or value not in field_.option_values:
        raise _Invalid("not_option")
    return value


def _multi_choice(field_: Field, value: Any) -> list[str]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise _Invalid("not_option")
    if any(v not in field_.option_values for v in value) or len(set(value)) != len(value):
        raise _Invalid("not_option")
    if field_.min_selected is not None and len(value) < field_.min_selected:
        raise _Invalid("too_few_selected", min=field_.min_selected)
    if field_.max_selected is not None and len(value) > field_.max_selected:
        raise _Invalid("too_many_selected", max=field_.max_selected)
    # keep the definition's order, so the same choices always give the same payload
    return [v for v in field_.option_values if v in value]


def _yes_no(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Invalid("not_yes_no")
    return value


def _mobile(value: Any) -> str:
    if not isinstance(value, str):
        raise _Invalid("bad_mobile")
    digits = re.sub(r"[\s\-]", "", value)
    if digits.startswith("+86"):
        digits = digits[3:]
    if not MOBILE_RE.match(digits):
        raise _Invalid("bad_mobile")
    return digits


def _id_number(value: Any) -> str:
    if not isinstance(value, str) or not is_valid_id_number(value):
        raise _Invalid("bad_id_number")
    return normalize_id_number(value)


def _email(value: Any) -> str:
    if not isinstance(value, str) or len(value.strip()) > 254 or not EMAIL_RE.match(value.strip()):
        raise _Invalid("bad_email")
    return value.strip()


def _address(field_: Field, value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping) or set(value) - set(ADDRESS_PARTS):
        raise _Invalid("bad_address")
    parts = {k: value.get(k) for k in ADDRESS_PARTS}
    if not all(isinstance(v, str) and v.strip() for v in parts.values()):
        raise _Invalid("bad_address")
    clean = {k: str(v).strip() for k, v in parts.items()}
    limit = field_.max_length or DEFAULT_MAX_LENGTH["address"]
    if len(clean["detail"]) > limit or any(len(clean[k]) > 40 for k in ADDRESS_PARTS[:3]):
        raise _Invalid("too_long", max=limit)
    return clean


def _attachment_ref(value: Any, accept: tuple[str, ...], max_bytes: int | None) -> dict[str, Any]:
    if not isinstance(value, Mapping) or set(value) - {"sha256", "size", "mime", "name"}:
        raise _Invalid("bad_attachment")
    sha, size, mime = value.get("sha256"), value.get("size"), value.get("mime")
    if not isinstance(sha, str) or not SHA256_RE.match(sha):
        raise _Invalid("bad_attachment")
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise _Invalid("bad_attachment")
    if mime not in accept:
        raise _Invalid("attachment_type")
    if max_bytes is not None and size > max_bytes:
        raise _Invalid("attachment_too_large", max_kb=max_bytes // 1024)
    ref: dict[str, Any] = {"sha256": sha, "size": size, "mime": mime}
    name = value.get("name")
    if name is not None:
        if not isinstance(name, str) or len(name) > 120:
            raise _Invalid("bad_attachment")
        ref["name"] = name
    return ref


def _attachment(field_: Field, value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list | tuple) or not value:
        raise _Invalid("bad_attachment")
    limit = field_.max_files or 1
    if len(value) > limit:
        raise _Invalid("too_many_files", max=limit)
    max_bytes = field_.max_size_kb * 1024 if field_.max_size_kb else None
    return [_attachment_ref(v, field_.accept, max_bytes) for v in value]


def _signature(value: Any) -> dict[str, Any]:
    try:
        return _attachment_ref(value, ("image/png",), 2 * 1024 * 1024)
    except _Invalid as exc:
        raise _Invalid("bad_signature") from exc


def _consent(value: Any) -> bool:
    if value is not True:
        raise _Invalid("consent_required")
    return True


def _too_big(value: Any) -> bool:
    if isinstance(value, str):
        return len(value) > MAX_ANSWER_CHARS
    if isinstance(value, list | tuple):
        return len(value) > 100 or any(_too_big(v) for v in value)
    if isinstance(value, Mapping):
        return len(value) > 20 or any(_too_big(v) for v in value.values())
    return False


def check_value(field_: Field, value: Any, today: dt.date) -> tuple[Any, FieldMessage | None]:
    """Check a non-empty answer: ``(normalised value, None)`` or ``(None, message)``."""
    try:
        if _too_big(value):
            raise _Invalid("too_long", max=field_.max_length or MAX_ANSWER_CHARS)
        match field_.type:
            case "text" | "multiline":
                clean: Any = _text(field_, value)
            case "integer":
                clean = _integer(field_, value)
            case "decimal":
                clean = _decimal(field_, value)
            case "date":
                clean = _date(field_, value, today)
            case "choice":
                clean = _choice(field_, value)
            case "multi_choice":
                clean = _multi_choice(field_, value)
            case "yes_no":
                clean = _yes_no(value)
            case "mobile":
                clean = _mobile(value)
            case "id_number":
                clean = _id_number(value)
            case "email":
                clean = _email(value)
            case "address":
                clean = _address(field_, value)
            case "attachment":
                clean = _attachment(field_, value)
            case "signature":
                clean = _signature(value)
            case "consent":
                clean = _consent(value)
            case _:
                raise ValueError(f"unknown field type {field_.type!r}")
    except _Invalid as exc:
        return None, FieldMessage(field_.id, exc.code, exc.params, exc.custom)
    return clean, None
