"""18-digit resident ID numbers (GB 11643-1999).

The check character is ISO 7064 MOD 11-2, taken from python-stdnum. We deliberately do not use
``stdnum.cn.ric.validate``: it also looks the six-digit area code up in a built-in list, which
lags behind real re-districting (it rejects, for example, 310115 Pudong) and would turn away
citizens whose cards are perfectly valid. Only the province prefix is checked here.
"""

from __future__ import annotations

import datetime as dt
import re

from stdnum.iso7064 import mod_11_2

ID_RE = re.compile(r"^[0-9]{17}[0-9X]$")

# Province-level prefixes (GB/T 2260), including 71 Taiwan, 81 Hong Kong, 82 Macao, and 83 used
# on residence permits for Taiwan residents.
PROVINCE_CODES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82 83".split()
)


def normalize_id_number(value: str) -> str:
    """Upper-case ``x`` and drop spaces, as people type and scanners send it."""
    return value.replace(" ", "").replace("\u3000", "").strip().upper()


def _birth_date(number: str) -> dt.date | None:
    try:
        return dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def is_valid_id_number(value: str, *, today: dt.date | None = None) -> bool:
    """True for a well-formed 18-character ID number with a correct check character.

    Also checked: a known province prefix and a real birth date between 1900 and today.
    15-digit first-generation numbers are no longer in use and are refused.
    """
    if not isinstance(value, str):
        return False
    number = normalize_id_number(value)
    if not ID_RE.match(number) or number[:2] not in PROVINCE_CODES:
        return False
    birth = _birth_date(number)
    if birth is None or birth.year < 1900 or birth > (today or dt.date.today()):
        return False
    return bool(mod_11_2.is_valid(number))


def check_character(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits."""
    return mod_11_2.calc_check_digit(first17)


def birth_date_of(value: str) -> dt.date:
    """The birth date encoded in a valid ID number."""
    birth = _birth_date(normalize_id_number(value))
    if birth is None:
        raise ValueError("not a valid ID number")
    return birth


def sex_of(value: str) -> str:
    """``"male"`` or ``"female"``: the 17th digit is odd for men and even for women."""
    return "male" if int(normalize_id_number(value)[16]) % 2 else "female"


def age_on(birth: dt.date, today: dt.date) -> int:
    """Full years between ``birth`` and ``today``."""
    years = today.year - birth.year
    if (today.month, today.day) < (birth.month, birth.day):
        years -= 1
    return years
