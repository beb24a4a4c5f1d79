"""Masking personal values for the clear summary staff may see.

The terminal keeps only sealed copies of what a citizen entered; the summary that lets
staff recognise a submission shows masked values, the way Chinese government receipts do:
``张*三``, ``110105********002X``, ``138****8000``. Masks keep the length (so staff can
still tell a two-character name from a four-character one) and reveal only the ends.
"""

from __future__ import annotations

import unicodedata

MASK = "*"
# Separators inside names that carry no identity and help staff read the mask:
# the middle dot of transliterated names (买买提·艾力), spaces, hyphens, apostrophes.
_NAME_SEPARATORS = frozenset(" ·•・‧.-'’")


def mask_name(name: str | None) -> str:
    """Mask a person's name: ``张三`` -> ``张*``, ``张小三`` -> ``张*三``, ``欧阳小明`` -> ``欧**明``.

    Names written in Latin letters keep the first letter of each word:
    ``John Smith`` -> ``J*** S****``. Separators (spaces, ``·``, hyphens) stay. A name of
    one character is masked completely. ``None`` or blank gives ``""``.
    """
    if not name:
        return ""
    text = unicodedata.normalize("NFC", name).strip()
    if not text:
        return ""
    if _is_latin(text):
        return _mask_latin_name(text)
    return _mask_keep_ends(text)


def mask_id_number(number: str | None) -> str:
    """Mask an ID number, keeping its length: ``11010519491231002X`` -> ``110105********002X``.

    18-character resident ID numbers keep the first 6 (the issuing area) and the last 4;
    15-character (first-generation) numbers the first 6 and last 3, so the birth date is
    hidden in both; shorter documents (passports, permits) keep only the first 2 and last 2;
    values under 8 characters are masked completely.
    """
    if not number:
        return ""
    text = "".join(unicodedata.normalize("NFKC", number).split()).upper()
    n = len(text)
    if n >= 18:
        head, tail = 6, 4
    elif n >= 15:
        head, tail = 6, 3
    elif n >= 8:
        head, tail = 2, 2
    else:
        head, tail = 0, 0
    if not tail:
        return MASK * n
    return text[:head] + MASK * (n - head - tail) + text[n - tail :]


def mask_mobile(number: str | None) -> str:
    """Mask a phone number: ``13800138000`` -> ``138****8000``.

    Only digits are masked; ``+``, spaces and dashes stay where they are. Numbers of 11
    digits or more keep the first 3 and last 4 digits of the subscriber number (a ``+86``
    or ``86`` country prefix stays visible); shorter numbers keep their last 4 digits, and
    numbers of fewer than 7 digits are masked completely.
    """
    if not number:
        return ""
    text = unicodedata.normalize("NFKC", number).strip()
    digit_positions = [i for i, ch in enumerate(text) if ch.isdigit()]
    total = len(digit_positions)
    prefix = 0
    if text.startswith("+86") or (total == 13 and text.startswith("86")):
        prefix = 2
    subscriber = total - prefix
    if subscriber >= 11:
        keep_head, keep_tail = 3, 4
    elif subscriber >= 7:
        keep_head, keep_tail = 0, 4
    else:
        keep_head, keep_tail = 0, 0
    visible = set(digit_positions[: prefix + keep_head])
    if keep_tail:
        visible.update(digit_positions[total - keep_tail :])
    return "".join(
        MASK if ch.isdigit() and i not in visible else ch for i, ch in enumerate(text)
    )


def _is_latin(text: str) -> bool:
    """Whether every letter of ``text`` is a Latin letter (English, pinyin, accented)."""
    letters = [ch for ch in text if ch.isalpha()]
    return bool(letters) and all("LATIN" in unicodedata.name(ch, "") for ch in letters)


def _mask_latin_name(text: str) -> str:
    out: list[str] = []
    at_word_start = True
    for ch in text:
        if ch in _NAME_SEPARATORS:
            out.append(ch)
            at_word_start = True
        elif at_word_start:
            out.append(ch)
            at_word_start = False
        else:
            out.append(MASK)
    return "".join(out)


def _mask_keep_ends(text: str) -> str:
    """First character, stars for the middle, last character; separators stay."""
    positions = [i for i, ch in enumerate(text) if ch not in _NAME_SEPARATORS]
    if len(positions) <= 1:
        return "".join(ch if ch in _NAME_SEPARATORS else MASK for ch in text)
    visible = {positions[0]}
    if len(positions) >= 3:
        visible.add(positions[-1])
    return "".join(
        ch if i in visible or ch in _NAME_SEPARATORS else MASK for i, ch in enumerate(text)
    )
