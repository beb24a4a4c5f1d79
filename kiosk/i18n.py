"""The kiosk's own user-visible strings, in Chinese and English, kept as data.

Strings live in ``kiosk/locale/zh_CN.json`` and ``kiosk/locale/en.json`` (flat objects:
key -> text with ``{name}`` placeholders). Service names, guides and form texts come from
the catalog (:class:`forms.I18nText`) and validation messages from the forms engine; this
module holds everything else the screens say. A test keeps both files' keys identical.

    strings = Strings.load()
    strings.text("en", "home.start")          # "Start a service"
    strings.text("zh_CN", "form.step", n=2, total=5)
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGUAGES: tuple[str, ...] = ("zh_CN", "en")
DEFAULT_LANGUAGE = "zh_CN"


class MissingString(KeyError):
    """A key that is in neither language file: a programming error, caught by the tests."""


@dataclass(frozen=True)
class Strings:
    """Every UI string of the kiosk in every language."""

    tables: Mapping[str, Mapping[str, str]]

    @classmethod
    def load(cls, folder: Path = LOCALE_DIR) -> Strings:
        """Read ``<folder>/<lang>.json`` for every language."""
        tables = {}
        for lang in LANGUAGES:
            path = folder / f"{lang}.json"
            tables[lang] = json.loads(path.read_text(encoding="utf-8"))
        return cls(tables)

    def text(self, lang: str, key: str, **params: Any) -> str:
        """The string ``key`` in ``lang`` (unknown languages fall back to Chinese), formatted."""
        table = self.tables.get(lang) or self.tables[DEFAULT_LANGUAGE]
        try:
            template = table[key]
        except KeyError:
            raise MissingString(key) from None
        return template.format(**params) if params else template


_STRINGS: Strings | None = None


def strings() -> Strings:
    """The shipped strings, loaded once per process."""
    global _STRINGS
    if _STRINGS is None:
        _STRINGS = Strings.load()
    return _STRINGS


def tr(lang: str, key: str, **params: Any) -> str:
    """Shorthand for ``strings().text(lang, key, **params)``."""
    return strings().text(lang, key, **params)
