"""Whole journeys driven like a citizen: taps, typing, a simulated ID card, to a queued submission."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLabel, QLineEdit, QWidget

from sync.store import database_path, open_store
from tests.ui.conftest import Kiosk


def _choose_date(kiosk: Kiosk, field_id: str, year: int, month: int, day: int) -> None:
    card = kiosk.field(field_id)
    for name, value in (("year", year), ("month", month), ("day", day)):
        combo = card.findChild(QComboBox, name)
        combo.setCurrentIndex(combo.findData(value))  # what a tap on the drop-down's item does


def test_residence_permit_from_home_to_rating(make_kiosk) -> None:
    kiosk = make_kiosk()
    kiosk.tap("start")
    kiosk.wait_screen("catalog")
    kiosk.type_into(kiosk.find("search", QLineEdit), "jzz")
    kiosk.tap("service_residence-permit")
    kiosk.wait_screen("guide")
    assert kiosk.has("guide_materials")
    kiosk.tap("start")
    kiosk.wait_screen("identify")

    kiosk.tap("demo_card_zhang_san")  # the simulated reader on a pty, read by the real driver
    kiosk.wait_screen("form")
    assert kiosk.field("name").findChild(QLineEdit, "input").text() == "张三"
    assert kiosk.field("name").findChild(QWidget, "prefilled").isVisible()

    # mobile is required and empty: "next" refuses and says so next to the field
    kiosk.tap("next")
    assert kiosk.find("summary").isVisible()
    assert kiosk.field("mobile").findChild(QLabel, "error").text() == "请填写此项。"
    mobile = kiosk.field("mobile").findChild(QLineEdit, "input")
    kiosk.qtbot.mouseClick(mobile, Qt.MouseButton.LeftButton)
    kiosk.keypad("1380013800")
    kiosk.tap("next")
    assert "11 位手机号码" in kiosk.field("mobile").findChild(QLabel, "error").text()
    kiosk.keypad("0")
    assert not kiosk.field("mobile").findChild(QLabel, "error").isVisible()  # fixed: message gone
    kiosk.tap("next")

    # residence (no guardian step: the applicant is an adult)
    assert kiosk.text("title") == "居住情况"
    card = kiosk.field("current_address")
    for part, text in (("province", "广东省"), ("city", "深圳市"), ("district", "南山区"), ("detail", "科技园路1号")):
        kiosk.type_into(card.findChild(QLineEdit, f"address_{part}"), text)
    _choose_date(kiosk, "resident_since", 2024, 3, 1)
    kiosk.tap("option_rented", kiosk.field("housing"))
    kiosk.tap("option_employment", kiosk.field("basis"))
    kiosk.settle()
    kiosk.type_into(kiosk.field("employer").findChild(QLineEdit, "input"), "深圳市某某科技有限公司")
    kiosk.tap("next")

    # documents: scanned with the demo scanner
    assert kiosk.text("title") == "上传材料"
    kiosk.tap("scan", kiosk.field("residence_proof"))
    kiosk.qtbot.waitUntil(lambda: kiosk.state.session.wizard.answer("residence_proof"), timeout=5000)
    kiosk.tap("scan", kiosk.field("employment_proof"))
    kiosk.qtbot.waitUntil(lambda: kiosk.state.session.wizard.answer("employment_proof"), timeout=5000)
    kiosk.settle()
    kiosk.tap("next")

    # consent and signature
    kiosk.tap("agree")
    kiosk.sign()
    kiosk.tap("next")
    kiosk.wait_screen("review")
    assert "张三" in kiosk.text("value_name")
    assert kiosk.text("value_mobile") == "13800138000"

    # change the mobile number from the review, and come straight back
    kiosk.tap("change_applicant")
    kiosk.wait_screen("form")
    mobile = kiosk.field("mobile").findChild(QLineEdit, "input")
    kiosk.qtbot.mouseClick(mobile, Qt.MouseButton.LeftButton)
    kiosk.tap("key_backspace")
    kiosk.keypad("1")
    kiosk.tap("next")
    kiosk.wait_screen("review")
    assert kiosk.text("value_mobile") == "13800138001"

    kiosk.tap("submit")
    kiosk.wait_screen("submitted")
    receipt_no = kiosk.text("receipt_no")
    kiosk.qtbot.waitUntil(lambda: kiosk.state.session.print_outcome is not None, timeout=15_000)
    kiosk.settle()
    assert kiosk.state.session.print_outcome.printed, kiosk.state.session.print_outcome.error
    assert "回执已打印" in kiosk.text("print_state")

    with open_store(database_path(kiosk.data_dir)) as store:
        entry = store.find(receipt_no)
        assert entry.service_id == "residence-permit"
        assert entry.state == "pending"
        assert entry.summary.applicant_name == "张*"
        # how long the citizen took, for the hall's daily summary (from choosing the service to submitting)
        summary = json.loads(store.db.execute("SELECT summary FROM submissions WHERE receipt_no = ?",
                                              (receipt_no,)).fetchone()[0])
        assert 0 < summary["session_seconds"] < 600
        # the scans (the demo scanner gives the same page twice: stored once) and the signature
        assert sorted(a.mime for a in entry.attachments) == ["image/jpeg", "image/png"]
    pdfs = list((kiosk.data_dir / "receipts").rglob("*.pdf"))
    assert [str(p) for p in pdfs] == [kiosk.state.session.print_outcome.output]
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(pdfs[0]), "-"], capture_output=True, text=True, check=True).stdout
        assert receipt_no in text.replace(" ", "")

    kiosk.tap("finish")
    kiosk.wait_screen("rating")
    kiosk.tap("score_2")
    kiosk.tap("reason_slow")
    kiosk.tap("send")
    assert kiosk.has("thanks")
    kiosk.settle()
    with open_store(database_path(kiosk.data_dir)) as store:
        row = store.db.execute("SELECT service_id, score, tags, receipt_no FROM ratings").fetchall()
    assert row == [("residence-permit", 2, '["slow"]', receipt_no)]
    kiosk.tap("home")
    kiosk.wait_screen("home")
    assert kiosk.state.session.wizard is None and not kiosk.state.session.files


def test_no_criminal_record_with_a_typed_id_number(make_kiosk) -> None:
    kiosk = make_kiosk()
    kiosk.tap("start")
    kiosk.tap("category_certificates")
    kiosk.tap("service_no-criminal-record-certificate")
    kiosk.tap("start")
    kiosk.wait_screen("identify")

    # a mistyped number gets a plain message; the right one goes through
    kiosk.keypad("520102199506153015")
    kiosk.tap("confirm_id")
    assert "不正确" in kiosk.text("error")
    kiosk.tap("key_backspace")
    kiosk.keypad("4")
    kiosk.tap("confirm_id")
    kiosk.wait_screen("form")
    assert kiosk.field("id_number").findChild(QLineEdit, "input").text() == "520102199506153014"

    kiosk.type_into(kiosk.field("name").findChild(QLineEdit, "input"), "赵磊")
    kiosk.tap("option_male", kiosk.field("sex"))
    kiosk.qtbot.mouseClick(kiosk.field("mobile").findChild(QLineEdit, "input"), Qt.MouseButton.LeftButton)
    kiosk.keypad("13900139000")
    kiosk.tap("option_local", kiosk.field("hukou"))
    kiosk.tap("next")
    assert not kiosk.has("summary"), kiosk.text("summary")

    kiosk.tap("option_employment", kiosk.field("purpose"))
    kiosk.settle()
    kiosk.tap("option_self", kiosk.field("applicant_type"))
    kiosk.tap("next")
    kiosk.tap("agree")
    kiosk.sign()
    kiosk.tap("next")
    kiosk.wait_screen("review")
    kiosk.tap("submit")
    kiosk.wait_screen("submitted")
    receipt_no = kiosk.text("receipt_no")
    kiosk.settle()
    with open_store(database_path(kiosk.data_dir)) as store:
        assert store.find(receipt_no).service_id == "no-criminal-record-certificate"
    kiosk.tap("finish")
    kiosk.tap("skip")
    kiosk.wait_screen("home")


def test_an_unenrolled_kiosk_says_so_and_keeps_the_answers(make_kiosk) -> None:
    kiosk = make_kiosk(enrolled=False)
    kiosk.tap("start")
    kiosk.tap("category_certificates")
    kiosk.tap("service_no-criminal-record-certificate")
    kiosk.tap("start")
    kiosk.tap("demo_card_zhang_san")
    kiosk.wait_screen("form")
    kiosk.qtbot.mouseClick(kiosk.field("mobile").findChild(QLineEdit, "input"), Qt.MouseButton.LeftButton)
    kiosk.keypad("13900139000")
    kiosk.tap("option_local", kiosk.field("hukou"))
    kiosk.tap("next")
    kiosk.tap("option_employment", kiosk.field("purpose"))
    kiosk.settle()
    kiosk.tap("option_self", kiosk.field("applicant_type"))
    kiosk.tap("next")
    kiosk.tap("agree")
    kiosk.sign()
    kiosk.tap("next")
    kiosk.wait_screen("review")
    kiosk.tap("submit")
    kiosk.qtbot.waitUntil(lambda: kiosk.has("error") and "尚未开通" in kiosk.text("error"), timeout=10_000)
    assert kiosk.screen == "review"
    assert kiosk.state.session.wizard.answer("mobile") == "13900139000"




@pytest.mark.parametrize(("language", "words"), [("zh_CN", "存储空间不足"), ("en", "out of storage space")])
def test_a_full_disk_refuses_in_plain_words_and_keeps_the_answers(make_kiosk, data_dir, language, words) -> None:
    # A reserve larger than any test disk's free space: the real free space is "below the reserve".
    (data_dir / "kiosk.toml").write_text("config_version = 1\n[store]\nmin_free_disk_mb = 1000000\n")
    kiosk = make_kiosk(language=language)
    kiosk.tap("start")
    kiosk.tap("category_certificates")
    kiosk.tap("service_no-criminal-record-certificate")
    kiosk.tap("start")
    kiosk.tap("demo_card_zhang_san")
    kiosk.wait_screen("form")
    kiosk.qtbot.mouseClick(kiosk.field("mobile").findChild(QLineEdit, "input"), Qt.MouseButton.LeftButton)
    kiosk.keypad("13900139000")
    kiosk.tap("option_local", kiosk.field("hukou"))
    kiosk.tap("next")
    kiosk.tap("option_employment", kiosk.field("purpose"))
    kiosk.settle()
    kiosk.tap("option_self", kiosk.field("applicant_type"))
    kiosk.tap("next")
    kiosk.tap("agree")
    kiosk.sign()
    kiosk.tap("next")
    kiosk.wait_screen("review")
    kiosk.tap("submit")
    kiosk.qtbot.waitUntil(lambda: kiosk.has("error") and words in kiosk.text("error"), timeout=10_000)
    assert kiosk.text("error") == kiosk.state.tr("review.disk_full")
    assert kiosk.screen == "review"
    assert kiosk.state.session.wizard.answer("mobile") == "13900139000"
    assert kiosk.find("submit").isEnabled()  # tapping again works once space is freed
    with open_store(database_path(data_dir)) as store:
        assert store.counts()["pending"] == 0
