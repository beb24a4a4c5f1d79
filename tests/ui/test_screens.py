"""Every screen in both languages, the idle timeout, search, and the kiosk's locked-down window."""

from __future__ import annotations

import re

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QLabel, QLineEdit, QWidget

from catalog import DEFAULT_CATALOG_DIR
from forms import load_catalog
from forms.search import SearchIndex, pinyin_keys
from kiosk.i18n import tr
from tests.ui.conftest import Kiosk

CJK = re.compile(r"[\u3400-\u9fff]")
# Not UI strings: the citizen's own answers and examples from the definitions, demo card holders' names.
DATA_NAMES = re.compile(r"^(lang_zh|example|value_.*|demo_card_.*|panel_card_.*|input|address_.*)$")


def visible_texts(kiosk: Kiosk) -> list[tuple[str, str]]:
    """(object name, text) of every visible label and button."""
    out = []
    for widget in kiosk.window.findChildren(QWidget):
        if not widget.isVisible() or not isinstance(widget, QLabel | QAbstractButton):
            continue
        out.append((widget.objectName(), widget.text()))
    return out


def assert_english(kiosk: Kiosk) -> None:
    leftovers = [(n, t) for n, t in visible_texts(kiosk) if CJK.search(t) and not DATA_NAMES.match(n)]
    assert not leftovers, f"Chinese left on the English {kiosk.screen} screen: {leftovers}"


def switch_and_back(kiosk: Kiosk) -> None:
    """Switch to English: everything re-renders in English; then back to Chinese."""
    screen = kiosk.screen
    kiosk.tap("lang_en")
    assert kiosk.state.lang == "en"
    assert kiosk.screen == screen
    assert_english(kiosk)
    kiosk.tap("lang_zh")
    assert kiosk.state.lang == "zh_CN"
    assert any(CJK.search(t) for _, t in visible_texts(kiosk))


def test_language_switch_on_every_screen(make_kiosk) -> None:
    kiosk = make_kiosk()
    switch_and_back(kiosk)  # home
    kiosk.tap("status")
    kiosk.wait_screen("status")
    switch_and_back(kiosk)
    assert kiosk.text("title") == tr("zh_CN", "status.title")
    kiosk.tap("home")
    kiosk.tap("call_staff")
    switch_and_back(kiosk)  # the dialog follows the language
    assert kiosk.text("overlay_title") == "呼叫工作人员"
    kiosk.tap("overlay_ok")
    kiosk.tap("start")
    switch_and_back(kiosk)  # catalog
    kiosk.tap("service_residence-permit")
    switch_and_back(kiosk)  # guide
    kiosk.tap("start")
    switch_and_back(kiosk)  # identify
    kiosk.tap("demo_card_zhang_san")
    kiosk.wait_screen("form")
    steps = 0
    while kiosk.screen == "form":
        wizard = kiosk.state.session.wizard
        for f in wizard.visible_fields():
            if wizard.answer(f.id) is None:
                fill_with_example(kiosk, f.id)
        kiosk.settle()
        switch_and_back(kiosk)
        kiosk.tap("next")
        kiosk.settle()
        steps += 1
        assert steps < 10
    kiosk.wait_screen("review")
    switch_and_back(kiosk)
    kiosk.tap("lang_en")
    kiosk.tap("submit")
    kiosk.wait_screen("submitted")
    kiosk.settle()
    assert_english(kiosk)
    assert kiosk.text("title") == "✓ Submitted"
    kiosk.tap("lang_zh")
    switch_and_back(kiosk)
    kiosk.tap("finish")
    kiosk.tap("score_1")
    switch_and_back(kiosk)  # rating with reasons
    assert kiosk.has("reason_slow")
    kiosk.tap("send")
    switch_and_back(kiosk)  # thanks


def fill_with_example(kiosk: Kiosk, field_id: str) -> None:
    """Answer a field by tapping what a citizen would (the definition's example)."""
    f = kiosk.state.session.wizard.definition.field(field_id)
    card = kiosk.field(field_id)
    if f.type in ("choice", "yes_no"):
        kiosk.tap(f"option_{f.example}", card)
    elif f.type == "attachment":
        kiosk.tap("scan", card)
        kiosk.qtbot.waitUntil(lambda: kiosk.state.session.wizard.answer(field_id) is not None, timeout=5000)
    elif f.type == "signature":
        kiosk.sign(field_id)
    elif f.type == "consent":
        kiosk.tap("agree", card)
    elif f.type == "address":
        for part, text in f.example.items():
            kiosk.type_into(card.findChild(QLineEdit, f"address_{part}"), text)
    elif f.type == "date":
        from PySide6.QtWidgets import QComboBox

        for name, value in zip(("year", "month", "day"), map(int, f.example.split("-")), strict=True):
            combo = card.findChild(QComboBox, name)
            combo.setCurrentIndex(combo.findData(value))
    else:
        kiosk.type_into(card.findChild(QLineEdit, "input"), str(f.example))


def test_idle_timeout_wipes_a_half_filled_form(make_kiosk) -> None:
    kiosk = make_kiosk(idle_timeout_ms=1500, idle_warning_ms=700)
    kiosk.tap("start")
    kiosk.tap("category_certificates")
    kiosk.tap("service_no-criminal-record-certificate")
    kiosk.tap("start")
    kiosk.keypad("520102199506153014")
    kiosk.tap("confirm_id")
    kiosk.wait_screen("form")
    kiosk.type_into(kiosk.field("name").findChild(QLineEdit, "input"), "赵磊")
    kiosk.tap("lang_en")
    wizard = kiosk.state.session.wizard
    assert wizard.answer("name") == "赵磊"

    kiosk.qtbot.waitUntil(lambda: kiosk.window.overlay.kind == "idle", timeout=5000)
    assert "seconds" in kiosk.text("overlay_text")  # the countdown, in the citizen's language
    kiosk.wait_screen("home", timeout=5000)

    assert kiosk.state.session.wizard is None
    assert wizard.answer("name") is None  # the wizard itself forgot the answers
    assert kiosk.state.session.files == {}
    assert kiosk.state.lang == "zh_CN"  # the next citizen starts in the configured language
    assert not kiosk.window.overlay.is_open
    for widget in kiosk.window.findChildren(QLineEdit):
        assert "赵磊" not in widget.text() and "520102" not in widget.text()
    for name in ("form", "identify", "review"):
        assert kiosk.window.screen(name).content is None
    assert kiosk.window.screen("identify").typed == ""


def test_continue_at_the_idle_warning_keeps_the_session(make_kiosk) -> None:
    kiosk = make_kiosk(idle_timeout_ms=1200, idle_warning_ms=1000)
    kiosk.tap("start")
    kiosk.tap("service_residence-permit")
    kiosk.qtbot.waitUntil(lambda: kiosk.window.overlay.kind == "idle", timeout=5000)
    kiosk.tap("idle_continue")
    assert kiosk.screen == "guide"
    assert kiosk.state.session.service is not None
    assert not kiosk.window.overlay.is_open


def test_search_finds_residence_permit_by_pinyin_initials(make_kiosk) -> None:
    kiosk = make_kiosk()
    kiosk.tap("start")
    kiosk.type_into(kiosk.find("search", QLineEdit), "jzz")
    kiosk.settle()
    buttons = [w.objectName() for w in kiosk.window.findChildren(QAbstractButton) if w.isVisible()
               and w.objectName().startswith("service_")]
    assert buttons == ["service_residence-permit"]
    assert "jzz" in kiosk.text("result_count")
    kiosk.find("search", QLineEdit).clear()
    kiosk.type_into(kiosk.find("search", QLineEdit), "qqqq")
    assert kiosk.has("nothing_found")


def test_search_index_by_chinese_pinyin_and_english() -> None:
    index = SearchIndex.build(load_catalog(DEFAULT_CATALOG_DIR).services)
    assert [s.id for s in index.search("jzz")] == ["residence-permit"]
    assert [s.id for s in index.search("居住")] == ["residence-permit"]
    assert [s.id for s in index.search("JZZ ")] == ["residence-permit"]
    assert [s.id for s in index.search("gjj")] == ["provident-fund-withdrawal"]
    assert "residence-permit" in [s.id for s in index.search("Residence")]
    assert len(index.search("")) == len(index.entries)
    assert pinyin_keys("居住证") == ("juzhuzheng", "jzz")


def test_a_wrong_length_id_number_is_explained(make_kiosk) -> None:
    kiosk = make_kiosk()
    kiosk.tap("start")
    kiosk.tap("service_residence-permit")
    kiosk.tap("start")
    kiosk.keypad("1101051949")
    kiosk.tap("confirm_id")
    assert kiosk.text("error") == tr("zh_CN", "identify.error_length")
    kiosk.tap("lang_en")
    assert kiosk.text("error") == tr("en", "identify.error_length")


def test_the_kiosk_window_cannot_be_closed_or_escaped(make_kiosk, qtbot) -> None:
    kiosk = make_kiosk()
    kiosk.window.kiosk_mode = True
    kiosk.window._closing_allowed = False
    kiosk.tap("start")
    qtbot.keyClick(kiosk.window, Qt.Key.Key_Escape)
    assert kiosk.screen == "catalog"
    assert kiosk.window.close() is False
    assert kiosk.window.isVisible()
    kiosk.window.allow_close()


def test_large_type_rerenders_with_bigger_targets(make_kiosk) -> None:
    kiosk = make_kiosk()
    kiosk.tap("start")
    before = kiosk.find("service_residence-permit").height()
    kiosk.tap("large_type")
    assert kiosk.state.large_type
    after = kiosk.find("service_residence-permit").height()
    assert after > before >= 90
    for widget in kiosk.window.findChildren(QAbstractButton):
        if widget.isVisible():
            assert widget.height() >= 90, widget.objectName()
    kiosk.tap("large_type")
    assert not kiosk.state.large_type


def test_an_ampersand_in_a_category_name_is_shown_not_made_a_shortcut(make_kiosk) -> None:
    kiosk = make_kiosk(language="en")
    kiosk.tap("start")
    buttons = [b for b in kiosk.window.findChildren(QAbstractButton) if b.isVisible() and "Household" in b.text()]
    # Qt shows "&&" as one "&"; a single "&" would vanish and underline the next letter
    assert buttons and all(b.text() == "Household && Residence" for b in buttons)
