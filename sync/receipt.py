"""Receipt numbers: made offline, unique across terminals, checked by one character.

A receipt number is what a citizen takes home and what staff type or scan to look a case
up. It is made on the terminal without asking anyone, yet no two terminals can make the
same one, because it starts with codes the central platform assigned at enrolment::

    SZ01-K7M-261123-00042-7
    |    |   |      |     +-- check character (ISO 7064 MOD 37-2: 0-9, A-Z or *)
    |    |   |      +-------- per-terminal, per-day sequence, 5 digits
    |    |   +--------------- local date of the terminal, YYMMDD
    |    +------------------- device code (3 characters, unique across the platform)
    +------------------------ site code (2 to 8 characters: the service hall)

The check character is computed over the compact form (no dashes) with ISO 7064
MOD 37-2 from python-stdnum. Being a *pure* system with the prime modulus 37, it catches
every single substituted character and every swap of two adjacent characters, including
swaps with the check character itself (``tests/store/test_receipt.py`` proves both
exhaustively). The hybrid MOD 37,36 system, which avoids the ``*``, misses 72 adjacent
swaps and was therefore not used. See ``docs/receipts.md``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from stdnum.iso7064 import mod_37_2

DATA_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
CHECK_ALPHABET = DATA_ALPHABET + "*"
SITE_CODE_MIN, SITE_CODE_MAX = 2, 8
DEVICE_CODE_LENGTH = 3
SEQUENCE_DIGITS = 5
SEQUENCE_MAX = 10**SEQUENCE_DIGITS - 1  # far beyond what one terminal serves in a day

_SITE_RE = re.compile(rf"[0-9A-Z]{{{SITE_CODE_MIN},{SITE_CODE_MAX}}}")
_DEVICE_RE = re.compile(rf"[0-9A-Z]{{{DEVICE_CODE_LENGTH}}}")
# Everything after the site code has a fixed width, so the compact form (no dashes)
# splits in exactly one way: the site code is whatever comes before the last 15.
_COMPACT_RE = re.compile(
    rf"(?P<site>[0-9A-Z]{{{SITE_CODE_MIN},{SITE_CODE_MAX}}})"
    rf"(?P<device>[0-9A-Z]{{{DEVICE_CODE_LENGTH}}})"
    r"(?P<day>[0-9]{6})"
    rf"(?P<sequence>[0-9]{{{SEQUENCE_DIGITS}}})"
    r"(?P<check>[0-9A-Z*])"
)
# Separators people type or scanners produce: ASCII and typographic dashes, spaces.
_SEPARATORS_RE = re.compile(r"[\s\-‐‑‒–—―−_.]")


class InvalidReceiptNumber(ValueError):
    """Text that is not a well-formed receipt number, or whose check character fails."""


def is_site_code(code: str) -> bool:
    """Whether ``code`` is a usable site code: 2 to 8 characters from 0-9 and A-Z."""
    return bool(_SITE_RE.fullmatch(code))


def is_device_code(code: str) -> bool:
    """Whether ``code`` is a usable device code: 3 characters from 0-9 and A-Z."""
    return bool(_DEVICE_RE.fullmatch(code))


def check_character(body: str) -> str:
    """The ISO 7064 MOD 37-2 check character for a compact receipt body (no dashes)."""
    return mod_37_2.calc_check_digit(body, alphabet=CHECK_ALPHABET)


@dataclass(frozen=True)
class ReceiptNumber:
    """One receipt number, split into its parts. ``str()`` gives the printed form."""

    site_code: str
    device_code: str
    day: date
    sequence: int
    check: str

    @classmethod
    def issue(cls, site_code: str, device_code: str, day: date, sequence: int) -> ReceiptNumber:
        """Make the receipt number for ``sequence`` on ``day`` at this site and device.

        Raises:
            ValueError: a code has the wrong shape, the day is outside 2000-2099 or the
                sequence is outside 1..99999.
        """
        if not is_site_code(site_code):
            raise ValueError(f"site code must be 2-8 characters 0-9/A-Z, got {site_code!r}")
        if not is_device_code(device_code):
            raise ValueError(
                f"device code must be {DEVICE_CODE_LENGTH} characters 0-9/A-Z, got {device_code!r}"
            )
        if not 2000 <= day.year <= 2099:
            raise ValueError(f"receipt dates are YYMMDD in 2000-2099, got {day.isoformat()}")
        if not 1 <= sequence <= SEQUENCE_MAX:
            raise ValueError(f"receipt sequence must be 1..{SEQUENCE_MAX}, got {sequence}")
        body = _body(site_code, device_code, day, sequence)
        return cls(site_code, device_code, day, sequence, check_character(body))

    @classmethod
    def parse(cls, text: str) -> ReceiptNumber:
        """Read a receipt number as a person typed or a scanner read it.

        Tolerates lower case, full-width characters, spaces and missing or extra dashes.

        Raises:
            InvalidReceiptNumber: the text has the wrong shape, names an impossible date
                or its check character does not match (a mistyped character).
        """
        compact = _SEPARATORS_RE.sub("", unicodedata.normalize("NFKC", text)).upper()
        match = _COMPACT_RE.fullmatch(compact)
        if match is None:
            raise InvalidReceiptNumber(
                f"{text!r} is not a receipt number (expected the form SZ01-K7M-261123-00042-7)"
            )
        digits = match["day"]
        try:
            day = date(2000 + int(digits[:2]), int(digits[2:4]), int(digits[4:]))
        except ValueError as exc:
            raise InvalidReceiptNumber(f"{text!r} has an impossible date {digits}") from exc
        if not mod_37_2.is_valid(compact, alphabet=CHECK_ALPHABET):
            raise InvalidReceiptNumber(
                f"{text!r} fails its check character: a character was mistyped or swapped"
            )
        return cls(match["site"], match["device"], day, int(match["sequence"]), match["check"])

    @classmethod
    def validate(cls, text: str) -> str:
        """The canonical printed form of ``text``; raises :class:`InvalidReceiptNumber`."""
        return str(cls.parse(text))

    @property
    def compact(self) -> str:
        """The number without dashes, as the check character is computed over it."""
        return _body(self.site_code, self.device_code, self.day, self.sequence) + self.check

    def __str__(self) -> str:
        seq = f"{self.sequence:0{SEQUENCE_DIGITS}d}"
        return f"{self.site_code}-{self.device_code}-{self.day:%y%m%d}-{seq}-{self.check}"


def is_valid(text: str) -> bool:
    """Whether ``text`` reads as a receipt number with a matching check character."""
    try:
        ReceiptNumber.parse(text)
    except InvalidReceiptNumber:
        return False
    return True


def _body(site_code: str, device_code: str, day: date, sequence: int) -> str:
    return f"{site_code}{device_code}{day:%y%m%d}{sequence:0{SEQUENCE_DIGITS}d}"
