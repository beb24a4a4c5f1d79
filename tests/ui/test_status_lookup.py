"""Status look-up at the kiosk: typed and scanned receipts, online, offline from the cache, not sent yet.

The online cases run the real central platform (``kiosk-central serve``) on 127.0.0.1 and
change the case's status with ``kiosk-central case set-status``, as hall staff would.
Scans come in as a keyboard-wedge scanner types them: a burst of key events a few
milliseconds apart ended by Enter, through the application's real key filter.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QLineEdit, QWidget

from catalog import DEFAULT_CATALOG_DIR
from devices.wedge import WedgeDetector
from forms import load_catalog
from kiosk.commands.enroll import enrol_terminal
from kiosk.i18n import tr
from kiosk.ui.scanner import WedgeKeyFilter
from sync.client import CentralClient
from sync.engine import run_once
from sync.store import database_path, open_store
from tests.support.answers import valid_answers
from tests.support.central_process import central_cli, running_central
from tests.ui.conftest import Kiosk

SERVICE = "residence-permit"


def _enqueue(data_dir: Path) -> str:
    catalog = load_catalog(DEFAULT_CATALOG_DIR)
    answers, files = valid_answers(catalog, SERVICE, random.Random(7))
    with open_store(database_path(data_dir)) as store:
        done = store.enqueue(SERVICE, catalog.get(SERVICE).version, answers, attachments=files,
                             service_name={"zh_CN": "居住证申领", "en": "Residence permit"})
    return done.receipt_no


def _type_on_keypad(kiosk: Kiosk, text: str) -> None:
    for char in text:
        kiosk.tap(f"key_{char}")


def _wedge_scan(kiosk: Kiosk, text: str) -> None:
    """What a USB scanner does: one key event per character, milliseconds apart, then Enter."""
    target = QApplication.focusWidget() or kiosk.window
    for char in text:
        QApplication.sendEvent(target, QKeyEvent(QEvent.Type.KeyPress, 0, Qt.KeyboardModifier.NoModifier, char))
        time.sleep(0.002)
    QApplication.sendEvent(target, QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_Return, Qt.KeyboardModifier.NoModifier,
                                              "\r"))


def _install_wedge(kiosk: Kiosk) -> WedgeKeyFilter:
    # a wider gap than the kiosk's 40 ms: a loaded CI machine must not turn a scan into typing
    wedge = WedgeKeyFilter(WedgeDetector(max_gap=0.2), parent=kiosk.window)
    wedge.scanned.connect(kiosk.window.handle_scan)
    QApplication.instance().installEventFilter(wedge)
    return wedge


def test_a_receipt_not_sent_yet_says_it_is_safe_on_this_kiosk(make_kiosk, data_dir: Path) -> None:
    kiosk = make_kiosk()
    receipt = _enqueue(data_dir)  # the platform at the enrolled address is not running: offline
    kiosk.tap("status")
    kiosk.wait_screen("status")
    _type_on_keypad(kiosk, receipt)
    assert kiosk.find("receipt_entry", QLineEdit).text() == receipt
    kiosk.tap("look_up")
    kiosk.qtbot.waitUntil(lambda: kiosk.has("state"), timeout=20_000)
    assert kiosk.text("state") == tr("zh_CN", "status.state.waiting")
    assert kiosk.text("receipt_no") == receipt
    assert kiosk.text("service") == "居住证申领"
    kiosk.tap("lang_en")
    assert kiosk.text("state") == "Waiting to be sent"
    kiosk.tap("home")
    kiosk.wait_screen("home")


def test_a_mistyped_receipt_number_is_caught_by_its_check_character(make_kiosk, data_dir: Path) -> None:
    kiosk = make_kiosk()
    receipt = _enqueue(data_dir)
    last = receipt[-1]
    wrong = receipt[:-1] + ("0" if last != "0" else "1")
    kiosk.tap("status")
    _type_on_keypad(kiosk, wrong)
    kiosk.tap("look_up")
    assert kiosk.text("error") == tr("zh_CN", "status.error_invalid")
    assert not kiosk.has("state")
    kiosk.tap("key_backspace")  # correcting it clears the message
    assert not kiosk.has("error")


def test_scanned_receipt_shows_the_platforms_status_then_the_cached_one_offline(
    make_kiosk, tmp_path: Path, data_dir: Path
) -> None:
    central_dir = tmp_path / "central"
    with running_central(central_dir) as url:
        with open_store(database_path(data_dir)) as store, CentralClient(url) as client:
            code = json.loads(central_cli(central_dir, "enroll-code", "create", "--site", "SZ02", "--json").stdout)
            enrol_terminal(store, client, code["code"])
        receipt = _enqueue(data_dir)
        with open_store(database_path(data_dir)) as store, CentralClient(url, token=store.enrolment().token) as c:
            assert run_once(store, c).accepted == 1
            case_no = store.find(receipt).case_no
        done = central_cli(central_dir, "case", "set-status", case_no, "ready_for_collection", "--note", "3号窗口")
        assert done.returncode == 0, done.stderr

        kiosk = make_kiosk(enrolled=False)
        _install_wedge(kiosk)
        _wedge_scan(kiosk, receipt)  # scanned on the home screen: straight to the answer
        kiosk.wait_screen("status")
        kiosk.qtbot.waitUntil(lambda: kiosk.has("state"), timeout=20_000)
        assert kiosk.text("state") == "可以领取"
        assert "3号窗口" in kiosk.text("note")
        assert kiosk.text("source").startswith("刚刚从服务中心查询")
        kiosk.tap("again")
    # the platform is gone: the same scan shows the last known status, saying how old it is
    _wedge_scan(kiosk, receipt)
    kiosk.qtbot.waitUntil(lambda: kiosk.has("state"), timeout=20_000)
    assert kiosk.text("state") == "可以领取"
    assert kiosk.text("source").startswith("暂时无法连接服务中心")


def test_a_scan_never_types_into_the_field_and_people_still_can(make_kiosk, data_dir: Path) -> None:
    kiosk = make_kiosk()
    receipt = _enqueue(data_dir)
    _install_wedge(kiosk)
    kiosk.tap("status")
    entry = kiosk.find("receipt_entry", QLineEdit)
    entry.setFocus()
    _wedge_scan(kiosk, receipt)
    kiosk.qtbot.waitUntil(lambda: kiosk.has("state"), timeout=20_000)
    assert kiosk.text("receipt_no") == receipt
    kiosk.tap("again")
    entry = kiosk.find("receipt_entry", QLineEdit)
    entry.setFocus()
    for char in "SZ":  # a person typing on a physical keyboard: slow keys reach the field
        QApplication.sendEvent(entry, QKeyEvent(QEvent.Type.KeyPress, 0, Qt.KeyboardModifier.NoModifier, char))
        kiosk.qtbot.wait(120)
    kiosk.qtbot.waitUntil(lambda: entry.text() == "SZ", timeout=2_000)


def test_scanning_a_receipt_mid_form_keeps_the_citizens_answers(make_kiosk, data_dir: Path) -> None:
    kiosk = make_kiosk()
    receipt = _enqueue(data_dir)
    _install_wedge(kiosk)
    kiosk.tap("start")
    kiosk.tap("service_residence-permit")
    kiosk.tap("start")
    kiosk.tap("demo_card_zhang_san")
    kiosk.wait_screen("form")
    _wedge_scan(kiosk, receipt)
    kiosk.qtbot.waitUntil(lambda: kiosk.has("overlay_title"), timeout=5_000)
    assert kiosk.text("overlay_text") == tr("zh_CN", "scan.busy")
    kiosk.tap("overlay_ok")
    assert kiosk.screen == "form" and kiosk.state.session.wizard.answer("name") == "张三"


def test_a_web_address_qr_is_refused_in_plain_words(make_kiosk) -> None:
    kiosk = make_kiosk()
    _install_wedge(kiosk)
    _wedge_scan(kiosk, "https://evil.example/phish")
    kiosk.qtbot.waitUntil(lambda: kiosk.has("overlay_title"), timeout=5_000)
    assert kiosk.text("overlay_text") == tr("zh_CN", "scan.url")
    assert kiosk.screen == "home"


def test_demo_scan_of_the_newest_receipt_goes_through_the_camera_decoder(make_kiosk, data_dir: Path) -> None:
    kiosk = make_kiosk()
    receipt = _enqueue(data_dir)
    kiosk.tap("status")
    kiosk.tap("demo_scan_receipt")
    kiosk.qtbot.waitUntil(lambda: kiosk.has("state"), timeout=20_000)
    assert kiosk.text("receipt_no") == receipt


def test_many_look_ups_in_a_row_are_refused_in_plain_words(make_kiosk, data_dir: Path) -> None:
    """Receipt numbers count up, so unlimited look-ups would let anyone walk a day's cases
    (from the kiosk's cache too, offline). The kiosk allows a family's worth, then says so."""
    from kiosk.ui.backend import KIOSK_LOOKUPS_PER_WINDOW

    kiosk = make_kiosk()
    receipt = _enqueue(data_dir)
    kiosk.tap("status")
    for _ in range(KIOSK_LOOKUPS_PER_WINDOW):
        _type_on_keypad(kiosk, receipt)
        kiosk.tap("look_up")
        kiosk.qtbot.waitUntil(lambda: kiosk.has("state"), timeout=20_000)
        assert kiosk.text("state") == tr("zh_CN", "status.state.waiting")
        kiosk.tap("again")
    _type_on_keypad(kiosk, receipt)
    kiosk.tap("look_up")
    kiosk.qtbot.waitUntil(lambda: kiosk.has("error") and kiosk.text("error") != "", timeout=20_000)
    assert kiosk.text("error") == tr("zh_CN", "status.error_limited")
    assert not kiosk.has("state")


def test_every_receipt_keypad_key_is_whole_on_screen_in_portrait_and_large_type(make_kiosk) -> None:
    """A key cut off at the card's edge is a key an elderly citizen misses."""
    from PySide6.QtCore import QRect

    kiosk = make_kiosk(size=(1080, 1920), language="en")
    kiosk.tap("status")
    kiosk.wait_screen("status")
    for large in (False, True):
        if large:
            kiosk.tap("large_type")
            kiosk.settle()
        card = kiosk.find("typed_receipt")
        keys = [w for w in card.findChildren(QWidget) if w.objectName().startswith("key_") and w.isVisible()]
        assert len(keys) >= 38
        for key in keys:
            # a widget paints only inside its parent: a key laid out past the keypad's edge is cut off
            holder, where = key.parentWidget(), key.geometry()
            assert holder.rect().contains(where), f"{key.objectName()} at {where} outside {holder.rect()}"
            card_box = QRect(holder.mapTo(card, holder.rect().topLeft()), holder.size())
            assert card.rect().contains(card_box), f"the keypad {card_box} is outside its card {card.rect()}"
