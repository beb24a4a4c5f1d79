"""Pinyin input: typed letters in, ranked Chinese candidates out (no Qt).

The kiosk's on-screen keyboard (:mod:`kiosk.ui.widgets.osk`) sends the letters a citizen
tapped; :meth:`PinyinEngine.candidates` answers with characters and words, best first::

    engine = load_engine(cache_dir)           # slow the first time: call it off the UI thread
    engine.candidates("beijing")[0].text      # "北京"
    engine.candidates("jzz")                  # 居住证 among words with initials j-z-z
    engine.candidates("xi'an")[0].text        # "西安"

What it understands: full syllables (``zhang``), several syllables (``beijing``),
initials (``jzz``), a partial last syllable (``zhan`` also offers 张), apostrophes between
syllables (``xi'an``), ü typed as ``v`` (``lv`` -> 绿). Anything else gives no candidates.
A candidate may stand for only the first part of the input (``consumed``): choosing 北 from
``beijingdaxue`` leaves ``jingdaxue`` to type on.

Data, built at run time from installed packages (no data files of our own): readings of
every character and of common phrases from pypinyin (MIT), words and their frequencies
from jieba's ``dict.txt`` (MIT). Building takes seconds, so the result is cached as JSON in
a file named after both packages' versions; an upgrade of either builds afresh.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import logging
import os
import re
import tempfile
import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

INDEX_FORMAT = 1  # bump when the cache file's layout or content changes
MAX_INPUT = 40  # letters and apostrophes considered; the keyboard refuses more
MAX_WORD_SYLLABLES = 8
MIN_WORD_FREQUENCY = 10  # jieba counts; rarer words make the index big and the lists noisy
SEARCH_BUDGET = 200_000  # dictionary entries looked at per query, so any input answers quickly
RARE_FREQUENCY = 100  # rarer entries come after common ones read from a partial syllable (zhan -> 张)
PREFERRED_FREQUENCY = 10_000_000  # words the kiosk adds (service names) come before the dictionary's
SEPARATOR = "'"
CJK = re.compile(r"^[\u4e00-\u9fff]+$")
TYPED = re.compile(r"^[a-z']*$")
ABBREVIATIONS = ("zh", "ch", "sh")  # two-letter initials typed for a whole syllable


class IndexBuildError(RuntimeError):
    """The data to build the pinyin index is missing (names the package and the fix)."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """One choice offered for the typed letters.

    ``consumed`` is how many characters of the typed input (letters and apostrophes) the
    candidate stands for; the rest stays to be typed on.
    """

    text: str
    pinyin: str  # space-separated syllables, "bei jing"
    consumed: int


@dataclass(frozen=True, slots=True)
class Entry:
    """A character or word of the dictionary with its reading and how common it is."""

    text: str
    syllables: tuple[str, ...]
    frequency: int


def normalize(typed: str) -> str:
    """Lower-case ``typed``, spell ü as v; the result is what the engine matches."""
    return typed.strip().lower().replace("ü", "v").replace("u:", "v")


class PinyinEngine:
    """Candidates for typed pinyin, from an index of entries."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        self._by_syllables: dict[tuple[str, ...], list[Entry]] = defaultdict(list)
        self._by_initials: dict[str, list[Entry]] = defaultdict(list)
        self._initial_prefixes: set[str] = set()
        syllables: set[str] = set()
        count = 0
        for entry in entries:
            key = "".join(s[0] for s in entry.syllables)
            self._by_syllables[entry.syllables].append(entry)
            self._by_initials[key].append(entry)
            syllables.update(entry.syllables)
            count += 1
        for key in self._by_initials:
            for end in range(1, len(key) + 1):
                self._initial_prefixes.add(key[:end])
        for bucket in (*self._by_syllables.values(), *self._by_initials.values()):
            bucket.sort(key=lambda e: -e.frequency)
        self.syllables = frozenset(syllables)
        self._syllable_prefixes = frozenset(s[:end] for s in syllables for end in range(1, len(s) + 1))
        self._initial_letters = frozenset(s[0] for s in syllables)
        self._longest = max((len(s) for s in syllables), default=0)
        self.size = count
        log.debug("pinyin engine ready: %d entries, %d syllables", count, len(syllables))

    def add_words(self, words: Iterable[str], frequency: int = PREFERRED_FREQUENCY) -> int:
        """Offer ``words`` (the catalog's service names, say) first when their pinyin is typed.

        Words that are not all Chinese characters are skipped; returns how many were added.
        """
        from pypinyin import Style, lazy_pinyin

        added = 0
        for word in dict.fromkeys(words):
            if not CJK.match(word) or len(word) > MAX_WORD_SYLLABLES:
                continue
            syllables = tuple(lazy_pinyin(word, style=Style.NORMAL, v_to_u=False, errors="ignore"))
            if len(syllables) != len(word) or not all(s in self.syllables for s in syllables):
                continue
            key = "".join(s[0] for s in syllables)
            entry = Entry(word, syllables, frequency)
            for bucket in (self._by_syllables[syllables], self._by_initials[key]):
                bucket[:] = [e for e in bucket if not (e.text == word and e.syllables == syllables)]
                bucket.append(entry)
                bucket.sort(key=lambda e: -e.frequency)
            for end in range(1, len(key) + 1):
                self._initial_prefixes.add(key[:end])
            added += 1
        self.size = sum(len(bucket) for bucket in self._by_syllables.values())
        return added

    # --- parsing the typed letters --------------------------------------------------------

    def _segments_at(self, text: str, pos: int) -> Iterator[tuple[int, str, bool]]:
        """Ways to read one syllable from ``text[pos:]``: (end, letters, may stand for a longer syllable)."""
        chunk_end = text.find(SEPARATOR, pos)
        if chunk_end < 0:
            chunk_end = len(text)
        seen: set[str] = set()
        for end in range(min(chunk_end, pos + self._longest), pos, -1):
            piece = text[pos:end]
            at_chunk_end = end == chunk_end
            short = len(piece) == 1 or piece in ABBREVIATIONS
            is_syllable = piece in self.syllables
            abbreviated = (short and piece[0] in self._initial_letters) or (
                at_chunk_end and piece in self._syllable_prefixes)
            if (is_syllable or abbreviated) and piece not in seen:
                seen.add(piece)
                yield end, piece, abbreviated

    @staticmethod
    def _skip_separators(text: str, pos: int) -> int:
        while pos < len(text) and text[pos] == SEPARATOR:
            pos += 1
        return pos

    # --- candidates ---------------------------------------------------------------------------

    def candidates(self, typed: str, limit: int = 60) -> list[Candidate]:
        """Characters and words for ``typed``, best first (at most ``limit``).

        Candidates that stand for the whole input come first; among them, those read with
        full syllables before those read from initials (rare characters after both), then the
        more common first. Then
        candidates for the start of the input, longest first.
        """
        text = normalize(typed)[:MAX_INPUT]
        if not text or not TYPED.match(text):
            return []
        start = self._skip_separators(text, 0)
        if start >= len(text):
            return []
        best: dict[str, tuple[tuple[int, int, int, int], Candidate]] = {}
        budget = [SEARCH_BUDGET]
        total = len(text.rstrip(SEPARATOR))

        def visit(pos: int, segments: list[tuple[str, bool]], key: str) -> None:
            if budget[0] <= 0 or len(segments) >= MAX_WORD_SYLLABLES:
                return
            for end, piece, abbreviated in self._segments_at(text, pos):
                next_key = key + piece[0]
                if next_key not in self._initial_prefixes:
                    continue
                path = [*segments, (piece, abbreviated)]
                consumed = end
                self._collect(path, next_key, consumed, consumed >= total, best, budget)
                visit(self._skip_separators(text, end), path, next_key)

        visit(start, [], "")
        ranked = sorted(best.values(), key=lambda item: item[0])
        return [candidate for _, candidate in ranked[:limit]]

    def _collect(
        self,
        path: list[tuple[str, bool]],
        key: str,
        consumed: int,
        whole: bool,
        best: dict[str, tuple[tuple[int, int, int, int], Candidate]],
        budget: list[int],
    ) -> None:
        """Add the entries that read as ``path`` (one entry per syllable segment) to ``best``."""
        if any(abbreviated for _, abbreviated in path):
            bucket = self._by_initials.get(key, [])
        else:
            bucket = self._by_syllables.get(tuple(piece for piece, _ in path), [])
        budget[0] -= len(bucket)
        if budget[0] < 0:
            return
        for entry in bucket:
            cost = 0
            for syllable, (piece, abbreviated) in zip(entry.syllables, path, strict=True):
                if syllable == piece:
                    continue
                if abbreviated and syllable.startswith(piece):
                    cost += 1
                else:
                    break
            else:
                if entry.frequency < RARE_FREQUENCY:
                    cost += 2
                rank = (0 if whole else 1, cost, -consumed, -entry.frequency)
                known = best.get(entry.text)
                if known is None or rank < known[0]:
                    best[entry.text] = (rank, Candidate(entry.text, " ".join(entry.syllables), consumed))


# --- building the index from pypinyin and jieba ------------------------------------------------


def _jieba_dict() -> Path:
    """jieba's word list, found without importing jieba (whose import is slow)."""
    spec = importlib.util.find_spec("jieba")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for folder in locations:
        path = Path(folder) / "dict.txt"
        if path.is_file():
            return path
    raise IndexBuildError(
        "pinyin input needs jieba's word list (jieba/dict.txt) and it is not installed. "
        "Fix: reinstall the kiosk software, or `pip install jieba`.")


def data_versions() -> dict[str, str]:
    """The versions of the packages the index is built from (part of the cache file's name)."""
    versions = {}
    for package in ("pypinyin", "jieba"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = "missing"
    return versions


def build_entries() -> list[Entry]:
    """Read pypinyin's readings and jieba's word frequencies into index entries (seconds)."""
    from pypinyin.contrib.tone_convert import to_normal
    from pypinyin.phrases_dict import phrases_dict
    from pypinyin.pinyin_dict import pinyin_dict

    plain: dict[str, str] = {}

    def toneless(marked: str) -> str:
        syllable = plain.get(marked)
        if syllable is None:
            syllable = to_normal(marked, v_to_u=False)
            syllable = syllable if syllable.isascii() and syllable.isalpha() else ""
            plain[marked] = syllable
        return syllable

    known: dict[str, list[str]] = {}

    def readings(char: str) -> list[str]:
        found = known.get(char)
        if found is None:
            marked = pinyin_dict.get(ord(char), "")
            found = known[char] = [s for s in (toneless(m) for m in marked.split(",")) if s]
        return found

    def main_reading(char: str) -> str:
        found = known.get(char)
        if found is None:
            found = readings(char)
        return found[0] if found else ""

    words: list[Entry] = []
    char_frequency: dict[tuple[str, str], int] = defaultdict(int)
    single_frequency: dict[str, int] = {}
    path = _jieba_dict()
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            parts = line.split()
            if len(parts) < 2 or not CJK.match(parts[0]) or not parts[1].isdigit():
                continue
            word, frequency = parts[0], int(parts[1])
            if len(word) == 1:
                single_frequency[word] = single_frequency.get(word, 0) + frequency
                continue
            if len(word) > MAX_WORD_SYLLABLES:
                continue
            phrase = phrases_dict.get(word)
            if phrase is not None and len(phrase) == len(word):
                syllables = tuple(toneless(options[0]) for options in phrase)
            else:
                syllables = tuple(main_reading(char) for char in word)
            if not all(syllables):
                continue
            for char, syllable in zip(word, syllables, strict=True):
                char_frequency[(char, syllable)] += frequency
            if frequency >= MIN_WORD_FREQUENCY:
                words.append(Entry(word, syllables, frequency))
    chars: list[Entry] = []
    for code in range(0x4E00, 0xA000):
        char = chr(code)
        options = list(dict.fromkeys(readings(char)))
        for index, syllable in enumerate(options):
            # a character alone counts once for its main reading; in words, for the reading used there
            alone = single_frequency.get(char, 0) if index == 0 else 0
            chars.append(Entry(char, (syllable,), alone + char_frequency.get((char, syllable), 0)))
    log.info("pinyin index built from %s: %d characters' readings, %d words", path, len(chars), len(words))
    return chars + words


def cache_file(cache_dir: Path) -> Path:
    """The index file for the installed package versions."""
    versions = data_versions()
    name = f"pinyin-index-v{INDEX_FORMAT}-pypinyin{versions['pypinyin']}-jieba{versions['jieba']}.json"
    return cache_dir / name


def _read_cache(path: Path) -> list[Entry] | None:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return [Entry(text, tuple(syllables.split()), int(frequency)) for text, syllables, frequency in raw["entries"]]
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("pinyin index cache %s is unreadable (%s); building it again", path, exc)
        return None


def _write_cache(path: Path, entries: list[Entry]) -> None:
    """Write atomically: a half-written file never replaces a good one."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {"format": INDEX_FORMAT, "versions": data_versions(),
                   "entries": [[e.text, " ".join(e.syllables), e.frequency] for e in entries]}
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, delete=False,
                                         suffix=".tmp") as handle:
            json.dump(payload, handle, ensure_ascii=False, separators=(",", ":"))
        os.replace(handle.name, path)
        log.info("pinyin index cached in %s", path)
    except OSError as exc:
        log.warning("cannot cache the pinyin index in %s (%s): the next start builds it again", path, exc)


def load_engine(cache_dir: Path | None) -> PinyinEngine:
    """The engine from the cached index in ``cache_dir``, building (and caching) it when needed.

    Takes seconds on a cache miss: call it off the UI thread. ``cache_dir=None`` never
    caches.
    """
    path = cache_file(cache_dir) if cache_dir is not None else None
    entries = _read_cache(path) if path is not None else None
    if entries is None:
        entries = build_entries()
        if path is not None:
            _write_cache(path, entries)
    return PinyinEngine(entries)


_shared: PinyinEngine | None = None
_shared_lock = threading.Lock()
_loader: threading.Thread | None = None
_load_error: Exception | None = None


def shared_engine(cache_dir: Path | None) -> PinyinEngine:
    """One engine per process, loaded on first use (thread-safe; slow on first use)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = load_engine(cache_dir)
        return _shared


def start_loading(cache_dir: Path | None) -> None:
    """Load the process's engine on a thread of its own, once; poll :func:`loaded_engine`.

    A thread of its own rather than the UI's task pool: loading is a process-wide warm-up
    of seconds that no screen waits for, and it must not hold up a screen's short tasks.
    """
    global _loader, _load_error
    with _shared_lock:
        if _shared is not None or _loader is not None:
            return
        _load_error = None
        _loader = threading.Thread(target=_load, args=(cache_dir,), name="pinyin-index", daemon=True)
        _loader.start()


def _load(cache_dir: Path | None) -> None:
    global _load_error, _loader
    try:
        shared_engine(cache_dir)
    except Exception as exc:  # handed to the keyboard, which says so and types letters only
        log.error("pinyin index cannot be loaded: %s", exc)
        with _shared_lock:
            _load_error = exc
            _loader = None  # a later keyboard may try again


def loaded_engine() -> PinyinEngine | None:
    """The process's engine if it is loaded already, else None (never blocks)."""
    return _shared


def load_error() -> Exception | None:
    """Why the last background load failed, if it did."""
    return _load_error
