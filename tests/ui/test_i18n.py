"""The kiosk's UI strings: both languages complete, consistent, and every key the code uses exists."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from kiosk.i18n import LANGUAGES, MissingString, Strings, tr

REPO = Path(__file__).resolve().parents[2]


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_both_languages_have_the_same_keys_and_no_empty_values() -> None:
    tables = Strings.load().tables
    zh, en = tables["zh_CN"], tables["en"]
    assert set(zh) == set(en), f"only in zh_CN: {set(zh) - set(en)}; only in en: {set(en) - set(zh)}"
    for lang in LANGUAGES:
        empty = [key for key, value in tables[lang].items() if not value.strip()]
        assert not empty, f"empty {lang} strings: {empty}"


def test_placeholders_agree_between_languages() -> None:
    tables = Strings.load().tables
    for key, zh in tables["zh_CN"].items():
        assert _placeholders(zh) == _placeholders(tables["en"][key]), key


def test_every_literal_key_in_the_ui_code_exists() -> None:
    keys = set(Strings.load().tables["zh_CN"])
    used = set()
    for path in (REPO / "kiosk" / "ui").rglob("*.py"):
        used |= set(re.findall(r"\btr\(\s*\"([a-z_]+\.[a-z_.0-9]+)\"", path.read_text(encoding="utf-8")))
    assert used, "the scan found no keys at all"
    assert not used - keys, f"keys used in kiosk/ui but missing from the locale files: {sorted(used - keys)}"


def test_dynamic_keys_exist() -> None:
    for lang in LANGUAGES:
        for score in range(1, 6):
            tr(lang, f"rating.score{score}")
        for status in ("received", "in_review", "more_info_needed", "approved", "rejected", "ready_for_collection",
                       "completed", "withdrawn", "waiting", "unknown", "other"):
            tr(lang, f"status.state.{status}", status="x")
            tr(lang, f"status.explain.{status}")
        for form in ("original", "copy", "original_and_copy", "electronic"):
            tr(lang, f"guide.form.{form}")
        for central in ("online", "offline", "unknown", "unenrolled"):
            tr(lang, f"strip.central_{central}")
        for part in ("province", "city", "district", "detail"):
            tr(lang, f"address.{part}")


def test_an_unknown_key_is_an_error_not_a_blank() -> None:
    with pytest.raises(MissingString):
        tr("en", "no.such.key")
