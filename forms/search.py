"""Finding services by what a citizen types: Chinese words, pinyin initials or English.

"jzz" finds 居住证申领 (ju zhu zheng), "居住" finds it by its name, "permit" by its English
name. Each service gets a list of search keys once (names, keywords, and the full pinyin and
pinyin initials of every Chinese name and keyword); a query matches a service when it is a
substring of one of its keys, compared case-insensitively and without spaces.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pypinyin import Style, lazy_pinyin

from forms.model import Catalog, ServiceDefinition

MAX_QUERY_CHARS = 50  # a search box, not an essay: bounds the work on hostile input


def _squash(text: str) -> str:
    return "".join(text.split()).casefold()


def pinyin_keys(text: str) -> tuple[str, str]:
    """Full pinyin and pinyin initials of ``text``: ``居住证`` -> ``("juzhuzheng", "jzz")``."""
    syllables = lazy_pinyin(text, errors="ignore")
    initials = lazy_pinyin(text, style=Style.FIRST_LETTER, errors="ignore")
    return "".join(syllables).casefold(), "".join(initials).casefold()


@dataclass(frozen=True)
class SearchIndex:
    """Search keys per service, built once for a catalog."""

    entries: tuple[tuple[ServiceDefinition, tuple[str, ...]], ...]

    @classmethod
    def build(cls, services: Iterable[ServiceDefinition]) -> SearchIndex:
        """Index ``services`` (a catalog's services, in display order)."""
        entries = []
        for service in services:
            keys: list[str] = []
            for zh in (service.name.zh_CN, *service.keywords_zh):
                keys.append(_squash(zh))
                keys.extend(pinyin_keys(zh))
            keys.extend(_squash(en) for en in (service.name.en, *service.keywords_en))
            entries.append((service, tuple(k for k in keys if k)))
        return cls(tuple(entries))

    def search(self, query: str) -> list[ServiceDefinition]:
        """Services matching ``query``, in catalog order; every service for a blank query."""
        needle = _squash(query[:MAX_QUERY_CHARS])
        if not needle:
            return [service for service, _ in self.entries]
        return [service for service, keys in self.entries if any(needle in key for key in keys)]


def search_services(catalog: Catalog, query: str) -> list[ServiceDefinition]:
    """One-off search of a catalog (builds the index each time; keep a SearchIndex to repeat)."""
    return SearchIndex.build(catalog.services).search(query)
