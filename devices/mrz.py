"""Machine-readable zones (ICAO Doc 9303) of passports (TD3) and ID cards (TD1).

Foreign residents identify themselves with a passport or a foreign ID card; a document
scanner or OCR hands us the MRZ as text. This module reads that text and checks every
check digit, so that a misread character is refused rather than put on a form.

Layouts (``<`` is the filler)::

    TD3, 2 lines of 44             TD1, 3 lines of 30
    P<UTOERIKSSON<<ANNA<MARIA...   I<UTOD231458907<<<<<<<<<<<<<<<
    L898902C36UTO7408122F1204159.. 7408122F1204159UTO<<<<<<<<<<<6
                                   ERIKSSON<<ANNA<MARIA<<<<<<<<<<

The check digit is the sum of character values (0-9 as themselves, A-Z as 10-35, ``<``
as 0) weighted 7, 3, 1 repeating, modulo 10. It is small enough that we implement it
here rather than depend on a package for it.

OCR tolerance: full-width characters, lower case and stray spaces inside a line are
accepted; line breaks may be missing when the total length says which layout it is. We do
not guess at look-alike characters (O for 0): the check digits catch those, and a citizen
is asked to scan again.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import unicodedata
from dataclasses import dataclass

log = logging.getLogger(__name__)

TD3_LINE, TD3_LINES = 44, 2
TD1_LINE, TD1_LINES = 30, 3
MAX_MRZ_TEXT = 512  # far more than 3 x 30 or 2 x 44 plus whitespace; longer input is not an MRZ

_LINE_RE = re.compile(r"[0-9A-Z<]+")
_DIGITS_RE = re.compile(r"[0-9]{6}")


class MrzError(ValueError):
    """Text that is not a machine-readable zone, or whose check digits do not match."""


def char_value(char: str) -> int:
    """The ICAO 9303 value of one MRZ character: digits as is, A-Z 10-35, ``<`` 0."""
    if "0" <= char <= "9":
        return ord(char) - ord("0")
    if "A" <= char <= "Z":
        return ord(char) - ord("A") + 10
    if char == "<":
        return 0
    raise MrzError(f"{char!r} cannot appear in an MRZ")


def check_digit(field: str) -> str:
    """The ICAO 9303 check digit (weights 7, 3, 1) of ``field``, as a character."""
    weights = (7, 3, 1)
    return str(sum(char_value(c) * weights[i % 3] for i, c in enumerate(field)) % 10)


@dataclass(frozen=True)
class MrzDocument:
    """A travel document read from its MRZ, with every check digit verified.

    Dates are ISO ``YYYY-MM-DD`` strings, or ``None`` when the MRZ leaves them unknown
    (``<`` fillers, allowed by ICAO for unknown birth dates). ``sex`` is ``"male"``,
    ``"female"`` or ``None`` (``<`` or ``X``: unspecified).
    """

    layout: str  # "TD3" or "TD1"
    document_type: str  # e.g. "P", "PO", "I", "ID"
    issuing_state: str  # ICAO 3-letter code, e.g. "DEU", "UTO"
    surname: str
    given_names: str
    document_number: str
    nationality: str
    birth_date: str | None
    sex: str | None
    expiry_date: str | None
    optional_data: str

    @property
    def name(self) -> str:
        """The holder's name as a form shows it: ``SURNAME GIVEN NAMES``."""
        return " ".join(part for part in (self.surname, self.given_names) if part)

    def as_prefill(self) -> dict[str, str]:
        """The prefill sources this document can fill (name, sex, birth date, expiry)."""
        values = {"name": self.name, "sex": self.sex, "birth_date": self.birth_date, "valid_until": self.expiry_date}
        return {key: value for key, value in values.items() if value}

    def __repr__(self) -> str:  # personal data stays out of logs and tracebacks
        return f"MrzDocument(layout={self.layout!r}, document_type={self.document_type!r}, <personal data hidden>)"


def normalize_lines(text: str) -> list[str]:
    """Split scanned MRZ text into lines of MRZ characters, dropping OCR noise.

    Full-width characters become ASCII, lower case becomes upper, spaces inside a line
    disappear, empty lines are dropped. Text without line breaks is split by length when
    it is exactly 88 (TD3) or 90 (TD1) characters.

    Raises:
        MrzError: the text is too long or contains characters an MRZ cannot contain.
    """
    if len(text) > MAX_MRZ_TEXT:
        raise MrzError(f"MRZ text is {len(text)} characters; at most {MAX_MRZ_TEXT} are read")
    text = unicodedata.normalize("NFKC", text).upper()
    lines = [re.sub(r"[ \t\u3000]", "", line) for line in text.splitlines()]
    lines = [line for line in lines if line]
    if len(lines) == 1:
        (line,) = lines
        if len(line) == TD3_LINE * TD3_LINES:
            lines = [line[:TD3_LINE], line[TD3_LINE:]]
        elif len(line) == TD1_LINE * TD1_LINES:
            lines = [line[i : i + TD1_LINE] for i in range(0, len(line), TD1_LINE)]
    for number, line in enumerate(lines, 1):
        if not _LINE_RE.fullmatch(line):
            bad = next(c for c in line if not ("0" <= c <= "9" or "A" <= c <= "Z" or c == "<"))
            raise MrzError(f"line {number} contains {bad!r}, which cannot appear in an MRZ")
    return lines


def looks_like_mrz(text: str) -> bool:
    """Whether ``text`` has the shape of a TD3 or TD1 MRZ (check digits not yet verified)."""
    try:
        lines = normalize_lines(text)
    except MrzError:
        return False
    return _layout(lines) is not None


def parse_mrz(text: str, *, today: dt.date | None = None) -> MrzDocument:
    """Read a TD3 (passport) or TD1 (ID card) MRZ and verify all its check digits.

    ``today`` decides the century of two-digit years (defaults to the current date).

    Raises:
        MrzError: the text is not an MRZ of either layout, or a check digit does not
            match; the message names the field.
    """
    lines = normalize_lines(text)
    layout = _layout(lines)
    today = today or dt.date.today()
    if layout == "TD3":
        return _parse_td3(lines, today)
    if layout == "TD1":
        return _parse_td1(lines, today)
    shape = " + ".join(str(len(line)) for line in lines) or "nothing"
    raise MrzError(f"not an MRZ: expected 2 lines of 44 (passport) or 3 lines of 30 (ID card), got {shape}")


def _layout(lines: list[str]) -> str | None:
    if len(lines) == TD3_LINES and all(len(line) == TD3_LINE for line in lines):
        return "TD3"
    if len(lines) == TD1_LINES and all(len(line) == TD1_LINE for line in lines):
        return "TD1"
    return None


def _verify(field: str, digit: str, what: str) -> None:
    if check_digit(field) != digit:
        raise MrzError(f"the check digit of the {what} does not match: the MRZ was misread; scan it again")


def _verify_optional(field: str, digit: str, what: str) -> None:
    # An all-filler optional field may carry '<' or '0' as its check digit (ICAO 9303-4).
    if field.strip("<") == "" and digit in ("<", "0"):
        return
    _verify(field, digit, what)


def _clean(field: str) -> str:
    return field.replace("<", " ").strip()


def _names(field: str) -> tuple[str, str]:
    surname, _, given = field.partition("<<")
    return _clean(surname), " ".join(_clean(given).split())


def _sex(char: str) -> str | None:
    return {"M": "male", "F": "female"}.get(char)


def _date(digits: str, today: dt.date, *, future: bool) -> str | None:
    """A YYMMDD field as ISO; birth dates are never in the future, expiry dates may be."""
    if "<" in digits:
        return None
    if not _DIGITS_RE.fullmatch(digits):
        raise MrzError(f"{digits!r} is not a date (YYMMDD)")
    yy, mm, dd = int(digits[:2]), int(digits[2:4]), int(digits[4:])
    century = today.year // 100 * 100
    year = century + yy
    if future:
        if year < today.year - 50:  # expiry dates lie at most ~50 years in the past
            year += 100
    elif year > today.year:
        year -= 100
    try:
        return dt.date(year, mm, dd).isoformat()
    except ValueError as exc:
        raise MrzError(f"{digits!r} is not a real date") from exc


def _parse_td3(lines: list[str], today: dt.date) -> MrzDocument:
    one, two = lines
    number, number_check = two[0:9], two[9]
    birth, birth_check = two[13:19], two[19]
    expiry, expiry_check = two[21:27], two[27]
    personal, personal_check = two[28:42], two[42]
    _verify(number, number_check, "document number")
    _verify(birth, birth_check, "date of birth")
    _verify(expiry, expiry_check, "date of expiry")
    _verify_optional(personal, personal_check, "personal number")
    _verify(two[0:10] + two[13:20] + two[21:43], two[43], "whole MRZ (composite)")
    surname, given = _names(one[5:44])
    return MrzDocument(
        layout="TD3",
        document_type=_clean(one[0:2]),
        issuing_state=_clean(one[2:5]),
        surname=surname,
        given_names=given,
        document_number=_clean(number),
        nationality=_clean(two[10:13]),
        birth_date=_date(birth, today, future=False),
        sex=_sex(two[20]),
        expiry_date=_date(expiry, today, future=True),
        optional_data=_clean(personal),
    )


def _parse_td1(lines: list[str], today: dt.date) -> MrzDocument:
    one, two, three = lines
    number, number_check, optional1 = one[5:14], one[14], one[15:30]
    if number_check == "<" and optional1.strip("<"):
        # A document number longer than 9 characters continues in the optional data and
        # ends with its check digit just before the first filler (ICAO 9303-5, 4.2.4).
        rest = optional1.split("<", 1)[0]
        if len(rest) < 2:
            raise MrzError("the long document number has no check digit")
        number, number_check = number + rest[:-1], rest[-1]
        optional1 = optional1[len(rest) :]
    birth, birth_check = two[0:6], two[6]
    expiry, expiry_check = two[8:14], two[14]
    _verify(number, number_check, "document number")
    _verify(birth, birth_check, "date of birth")
    _verify(expiry, expiry_check, "date of expiry")
    _verify(one[5:30] + two[0:7] + two[8:15] + two[18:29], two[29], "whole MRZ (composite)")
    surname, given = _names(three)
    return MrzDocument(
        layout="TD1",
        document_type=_clean(one[0:2]),
        issuing_state=_clean(one[2:5]),
        surname=surname,
        given_names=given,
        document_number=_clean(number),
        nationality=_clean(two[15:18]),
        birth_date=_date(birth, today, future=False),
        sex=_sex(two[7]),
        expiry_date=_date(expiry, today, future=True),
        optional_data=" ".join(part for part in (_clean(optional1), _clean(two[18:29])) if part),
    )
