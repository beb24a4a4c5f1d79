"""The pinyin engine behind the on-screen keyboard: what a citizen types, what they are offered."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pypinyin import lazy_pinyin

from kiosk import ime
from kiosk.ime import MAX_INPUT, Candidate, PinyinEngine, cache_file, load_engine

PAGE = 9  # what the keyboard's candidate bar shows at once, about


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ime-cache")


@pytest.fixture(scope="module")
def engine(cache_dir: Path) -> PinyinEngine:
    return load_engine(cache_dir)


def texts(candidates: list[Candidate], n: int = PAGE) -> list[str]:
    return [c.text for c in candidates[:n]]


def test_full_syllable_offers_the_common_characters(engine: PinyinEngine) -> None:
    assert "张" in texts(engine.candidates("zhang"))
    assert texts(engine.candidates("shi"))[0] == "是"


def test_several_syllables_offer_the_word_first(engine: PinyinEngine) -> None:
    first = engine.candidates("beijing")[0]
    assert first.text == "北京"
    assert first.consumed == len("beijing")
    assert texts(engine.candidates("juzhuzheng"))[0] == "居住证"
    assert texts(engine.candidates("shenzhenshi"))[0] == "深圳市"


def test_initials_find_words(engine: PinyinEngine) -> None:
    assert texts(engine.candidates("bjs"))[0] == "北京市"
    assert "居住证" in texts(engine.candidates("jzz"), 20)


def test_partial_last_syllable(engine: PinyinEngine) -> None:
    assert "张" in texts(engine.candidates("zhan"), 30)  # zhan... -> zhang
    assert "居住证" in texts(engine.candidates("juzhuzh"))


def test_apostrophe_separates_syllables(engine: PinyinEngine) -> None:
    assert texts(engine.candidates("xi'an"))[0] == "西安"
    plain = texts(engine.candidates("xian"), 30)
    assert {"先", "现"} <= set(plain[:PAGE])
    assert "西安" in plain  # both readings of x-i-a-n are offered


def test_u_umlaut_is_typed_as_v(engine: PinyinEngine) -> None:
    assert "绿" in texts(engine.candidates("lv"))
    assert texts(engine.candidates("nv"))[0] == "女"
    assert "略" in texts(engine.candidates("lve"))
    assert texts(engine.candidates("lü")) == texts(engine.candidates("lv"))


def test_upper_case_is_the_same_as_lower_case(engine: PinyinEngine) -> None:
    assert texts(engine.candidates("BeiJing")) == texts(engine.candidates("beijing"))


@pytest.mark.parametrize("typed", ["", "'", "''", "123", "你好", "i", "u", "vvvv", "a-b", "zhang san", "ɑ"])
def test_nonsense_gives_no_candidates(engine: PinyinEngine, typed: str) -> None:
    assert engine.candidates(typed) == []


def test_a_candidate_may_stand_for_the_start_of_the_input(engine: PinyinEngine) -> None:
    found = {c.text: c for c in engine.candidates("beijingdaxue", 100)}
    assert found["北京大学"].consumed == len("beijingdaxue")
    assert found["北"].consumed == len("bei")
    assert found["北京"].consumed == len("beijing")
    ranked = texts(engine.candidates("beijingdaxue"), 100)
    assert ranked.index("北京大学") < ranked.index("北京") < ranked.index("北")


def test_added_words_come_first(engine: PinyinEngine, cache_dir: Path) -> None:
    mine = load_engine(cache_dir)  # its own engine: the shared one stays as built
    assert mine.add_words(["居住证", "居住证申领", "not chinese", "居住证abc"]) == 2
    assert texts(mine.candidates("jzz"))[0] == "居住证"
    assert texts(mine.candidates("jzzsl"))[0] == "居住证申领"


def test_the_index_is_cached_by_package_versions(cache_dir: Path, engine: PinyinEngine,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    path = cache_file(cache_dir)
    assert path.is_file()
    for package, version in ime.data_versions().items():
        assert f"{package}{version}" in path.name

    def no_building() -> list[ime.Entry]:
        raise AssertionError("the second start must read the cache, not build again")

    monkeypatch.setattr(ime, "build_entries", no_building)
    again = load_engine(cache_dir)
    assert texts(again.candidates("beijing")) == texts(engine.candidates("beijing"))


def test_a_damaged_cache_is_rebuilt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = cache_file(tmp_path)
    path.write_text('{"format": 1, "entries": [["北京", "bei', encoding="utf-8")
    small = [ime.Entry("北京", ("bei", "jing"), 10), ime.Entry("北", ("bei",), 5)]
    monkeypatch.setattr(ime, "build_entries", lambda: small)
    rebuilt = load_engine(tmp_path)
    assert texts(rebuilt.candidates("bei")) == ["北"]
    assert json.loads(path.read_text(encoding="utf-8"))["entries"][0] == ["北京", "bei jing", 10]


def test_missing_word_list_names_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ime.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ime.IndexBuildError, match="jieba"):
        ime.build_entries()


# --- properties ------------------------------------------------------------------------------------

TYPING = st.text(alphabet="abcdefghijklmnopqrstuvwxyz'", max_size=MAX_INPUT)
ANYTHING = st.text(max_size=MAX_INPUT + 10)


@settings(max_examples=300, deadline=timedelta(seconds=1))
@given(typed=TYPING | ANYTHING)
def test_any_input_answers_quickly_without_crashing(engine: PinyinEngine, typed: str) -> None:
    found = engine.candidates(typed, limit=20)
    assert len(found) <= 20
    assert len({c.text for c in found}) == len(found)
    for candidate in found:
        assert ime.CJK.match(candidate.text)
        assert 0 < candidate.consumed <= len(typed.strip())
        assert len(candidate.pinyin.split()) == len(candidate.text)


WORDS = ["居住证", "北京", "社会保险", "公积金", "身份证", "营业执照", "朝阳区", "绿色", "女儿", "深圳市"]


@settings(max_examples=60, deadline=None)
@given(word=st.sampled_from(WORDS), style=st.sampled_from(["full", "initials", "apostrophes"]))
def test_common_words_are_found_however_they_are_typed(engine: PinyinEngine, word: str, style: str) -> None:
    syllables = lazy_pinyin(word, v_to_u=False)
    typed = {"full": "".join(syllables), "initials": "".join(s[0] for s in syllables),
             "apostrophes": "'".join(syllables)}[style]
    limit = 400 if style == "initials" else PAGE
    assert word in texts(engine.candidates(typed, limit), limit)
