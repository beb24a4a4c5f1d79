"""The on-screen keyboard, driven by taps only: pinyin and candidates, English, backspace, search."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit, QPushButton

from kiosk.ui.theme import TOUCH_MIN
from kiosk.ui.widgets.osk import KEY_MIN_WIDTH, OnScreenKeyboard
from tests.ui.conftest import Kiosk


def keyboard(kiosk: Kiosk) -> OnScreenKeyboard:
    found = kiosk.find("OnScreenKeyboard", OnScreenKeyboard)
    kiosk.qtbot.waitUntil(lambda: found._engine is not None, timeout=120_000)  # first build of the index
    return found  # type: ignore[return-value]


def touch(kiosk: Kiosk, box: QLineEdit) -> None:
    """Tap a text box, as a finger would."""
    kiosk.qtbot.mouseClick(box, Qt.MouseButton.LeftButton)
    QApplication.processEvents()


def tap_keys(kiosk: Kiosk, keys: str) -> None:
    """Tap the keyboard's keys for ``keys`` (letters, digits, ' and space)."""
    for char in keys:
        name = {" ": "osk_space", "'": "osk_apostrophe"}.get(char, f"osk_{char}")
        kiosk.tap(name)


def tap_candidate(kiosk: Kiosk, text: str) -> None:
    """Tap the candidate ``text``, turning pages until it shows."""
    osk = keyboard(kiosk)
    for _ in range(20):
        shown = osk.candidate_texts()
        if text in shown:
            kiosk.tap(f"osk_candidate_{shown.index(text)}", within=osk)
            return
        kiosk.tap("osk_next")
    raise AssertionError(f"{text!r} is not among the candidates for {osk.composition!r}")


def to_address_step(kiosk: Kiosk) -> QLineEdit:
    """From the home screen to the residence permit form's address step; returns the detail box."""
    kiosk.tap("start")
    kiosk.tap("service_residence-permit")
    kiosk.tap("start")
    kiosk.tap("demo_card_zhang_san")
    kiosk.wait_screen("form")
    kiosk.state.session.wizard.set_answer("mobile", "13800138000")
    kiosk.tap("next")
    kiosk.settle()
    return kiosk.find("address_detail", QLineEdit)  # type: ignore[return-value]


def test_typing_a_chinese_address_by_taps(make_kiosk) -> None:
    kiosk = make_kiosk()
    detail = to_address_step(kiosk)
    assert not kiosk.has("OnScreenKeyboard")  # no keyboard until a text box is touched
    touch(kiosk, detail)
    osk = keyboard(kiosk)
    assert osk.mode == "zh"
    tap_keys(kiosk, "keji")
    assert kiosk.text("osk_composition") == "keji"
    assert osk.candidate_texts()[0] == "科技"
    tap_candidate(kiosk, "科技")
    tap_keys(kiosk, "yuanlu")
    tap_candidate(kiosk, "园")
    assert osk.composition == "lu"  # 园 stood for "yuan": "lu" stays to be chosen
    tap_candidate(kiosk, "路")
    tap_keys(kiosk, "1")
    tap_keys(kiosk, "hao")
    kiosk.tap("osk_punct_1")  # "。" types the best candidate for "hao" first: 好
    assert detail.text() == "科技园路1好。"
    kiosk.tap("osk_backspace")
    kiosk.tap("osk_backspace")
    tap_keys(kiosk, "hao")
    tap_candidate(kiosk, "号")
    assert detail.text() == "科技园路1号"
    assert kiosk.state.session.wizard.answer("current_address")["detail"] == "科技园路1号"
    assert QApplication.focusWidget() is detail  # every tap left the focus in the box
    kiosk.tap("osk_done")
    assert not kiosk.has("OnScreenKeyboard")
    assert detail.text() == "科技园路1号"


def test_english_text_shift_and_space(make_kiosk) -> None:
    kiosk = make_kiosk()
    detail = to_address_step(kiosk)
    touch(kiosk, detail)
    osk = keyboard(kiosk)
    kiosk.tap("osk_mode")
    assert osk.mode == "en"
    assert kiosk.find("osk_punct_0", QPushButton).text() == ","
    kiosk.tap("osk_shift")
    tap_keys(kiosk, "room 5")
    kiosk.tap("osk_shift")
    tap_keys(kiosk, "b")
    assert detail.text() == "Room 5B"
    assert kiosk.text("osk_composition") != ""  # the bar says English letters go straight in
    assert osk.candidate_texts() == []
    kiosk.tap("osk_mode")
    assert osk.mode == "zh"
    assert kiosk.find("osk_punct_0", QPushButton).text() == "，"


def test_switching_modes_keeps_what_was_typed(make_kiosk) -> None:
    kiosk = make_kiosk()
    detail = to_address_step(kiosk)
    touch(kiosk, detail)
    osk = keyboard(kiosk)
    tap_keys(kiosk, "xi'an")
    assert osk.candidate_texts()[0] == "西安"
    kiosk.tap("osk_backspace")  # deletes pinyin, not the box's text
    assert osk.composition == "xi'a"
    kiosk.tap("osk_mode")  # pending pinyin goes in as letters
    assert detail.text() == "xia"
    assert osk.composition == ""
    kiosk.tap("osk_backspace")
    assert detail.text() == "xi"


def test_space_takes_the_first_candidate_and_lv_is_green(make_kiosk) -> None:
    kiosk = make_kiosk()
    detail = to_address_step(kiosk)
    touch(kiosk, detail)
    tap_keys(kiosk, "beijing ")
    tap_keys(kiosk, "lv")
    tap_candidate(kiosk, "绿")
    assert detail.text() == "北京绿"


def test_candidates_page(make_kiosk) -> None:
    kiosk = make_kiosk()
    touch(kiosk, to_address_step(kiosk))
    osk = keyboard(kiosk)
    tap_keys(kiosk, "shi")
    first = osk.candidate_texts()
    assert not kiosk.find("osk_previous", QPushButton).isEnabled()
    kiosk.tap("osk_next")
    second = osk.candidate_texts()
    assert second and not set(first) & set(second)
    kiosk.tap("osk_previous")
    assert osk.candidate_texts() == first


def test_number_boxes_keep_the_numeric_keypad(make_kiosk) -> None:
    kiosk = make_kiosk()
    kiosk.tap("start")
    kiosk.tap("service_residence-permit")
    kiosk.tap("start")
    kiosk.tap("demo_card_zhang_san")
    kiosk.wait_screen("form")
    mobile = kiosk.field("mobile").findChild(QLineEdit, "input")
    touch(kiosk, mobile)
    assert kiosk.has("keypad_panel")
    assert not kiosk.has("OnScreenKeyboard")


@pytest.mark.parametrize("size", [(1920, 1080), (1080, 1920)])
@pytest.mark.parametrize("large", [False, True])
def test_keys_are_big_enough_and_fit(make_kiosk, size: tuple[int, int], large: bool) -> None:
    kiosk = make_kiosk(size=size)
    kiosk.state.set_large_type(large)
    touch(kiosk, to_address_step(kiosk))
    osk = keyboard(kiosk)
    kiosk.settle()
    window = kiosk.window.rect()
    for name, key in osk.keys.items():
        assert key.width() >= KEY_MIN_WIDTH, f"key {name} is {key.width()} px wide"
        assert key.height() >= TOUCH_MIN, f"key {name} is {key.height()} px high"
        corner = key.mapTo(kiosk.window, key.rect().bottomRight())
        assert window.contains(corner), f"key {name} is off screen"
    assert kiosk.find("next", QPushButton).isVisible()


def test_search_by_taps_finds_the_residence_permit(make_kiosk) -> None:
    kiosk = make_kiosk()
    kiosk.tap("start")
    search = kiosk.find("search", QLineEdit)
    touch(kiosk, search)
    osk = keyboard(kiosk)
    assert not kiosk.has("categories")  # the keyboard takes the categories' place
    kiosk.tap("osk_mode")
    tap_keys(kiosk, "jzz")
    assert search.text() == "jzz"
    assert kiosk.has("service_residence-permit")
    assert kiosk.text("result_count").startswith(kiosk.state.tr("catalog.results", count=1, query="jzz")[:1])
    for _ in range(3):
        kiosk.tap("osk_backspace")
    kiosk.tap("osk_mode")  # pinyin: the list follows the pinyin before a candidate is chosen
    assert osk.mode == "zh"
    tap_keys(kiosk, "jzz")
    assert kiosk.has("service_residence-permit")
    assert osk.candidate_texts()[0] == "居住证"  # the catalog's own words come first
    tap_keys(kiosk, "a")  # jzza: nothing in the catalog
    assert not kiosk.has("service_residence-permit")
    kiosk.tap("osk_backspace")
    kiosk.tap("osk_backspace")
    kiosk.tap("osk_backspace")
    kiosk.tap("osk_backspace")
    tap_keys(kiosk, "juzhu")
    tap_candidate(kiosk, "居住")
    assert search.text() == "居住"
    assert kiosk.has("service_residence-permit")
    assert QApplication.focusWidget() is search
    kiosk.tap("osk_done")
    assert kiosk.has("categories")
    kiosk.tap("service_residence-permit")
    assert kiosk.screen == "guide"
