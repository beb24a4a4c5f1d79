"""The agent station driven like staff: sign-in and lock-out, 代办, search and reprint, the queue,
the daily summary. Real SQLite, the real catalog, real Qt widgets offscreen, the printer's PDFs."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QComboBox, QLineEdit, QListWidget, QPushButton, QTableWidget, QWidget

from forms import Wizard
from sync.store import database_path, open_store
from tests.ui.agent.conftest import AGENT_PIN, SUPERVISOR_PIN, Station


def _choose_date(card: QWidget, year: int, month: int, day: int) -> None:
    for name, value in (("year", year), ("month", month), ("day", day)):
        combo = card.findChild(QComboBox, name)
        combo.setCurrentIndex(combo.findData(value))


def _audit(station: Station) -> list[tuple[str, str, str | None]]:
    with open_store(database_path(station.data_dir)) as store:
        return [(a.action, a.actor, a.detail) for a in store.audit_entries()]


def _queue_one(station: Station, name: str = "张三", id_number: str = "11010519491231002X") -> str:
    """A submission made earlier (as the kiosk would), for search and queue tests; its receipt number."""
    service = station.state.catalog.get("residence-permit")
    wizard = Wizard(service, identity={"name": name, "id_number": id_number})
    payload = {"name": name, "id_number": id_number, "mobile": "13800138000"}
    with open_store(database_path(station.data_dir)) as store:
        result = store.enqueue(service.id, service.version, payload, service_name={"zh_CN": "居住证", "en": "Permit"})
    wizard.wipe()
    return result.receipt_no


# --- sign-in ---------------------------------------------------------------------------------------


def test_sign_in_wrong_pin_then_lock_out_then_sign_out(make_station) -> None:
    station = make_station()
    assert station.page == "signin"
    assert not station.has("sign_out")
    assert station.find("pin", QLineEdit).echoMode() == QLineEdit.EchoMode.Password

    station.sign_in("wang.li", "999999")
    assert station.page == "signin"
    assert "再输错 4 次" in station.text("signin_message")
    assert station.find("pin", QLineEdit).text() == ""  # never left in the box

    for _ in range(4):
        station.sign_in("wang.li", "999999")
    message = station.text("signin_message")
    assert "账号已锁定" in message and "后再试" in message
    # locked: even the right PIN is refused, and the screen says until when
    station.sign_in("wang.li", AGENT_PIN)
    assert station.page == "signin"
    assert "账号已锁定" in station.text("signin_message")

    station.sign_in("zhao.min", SUPERVISOR_PIN)
    assert station.page == "submit"
    assert "赵敏" in station.text("staff_label")
    assert station.has("sign_out")
    station.click("sign_out")
    station.settle()
    assert station.page == "signin"
    actions = [a for a, _actor, _d in _audit(station)]
    assert actions.count("sign-in-failed") == 5
    assert "sign-in-locked" in actions and "sign-in-ok" in actions and "sign-out" in actions


def test_idle_staff_are_signed_out(make_station) -> None:
    station = make_station(language="en", idle_signout_ms=300)
    station.sign_in("wang.li", AGENT_PIN)
    # Not "the submit page is on show now": on a loaded machine signing in and settling can
    # take longer than the 300 ms idle limit. The audit log shows the order either way.
    station.qtbot.waitUntil(lambda: station.page == "signin", timeout=10_000)
    station.settle()
    assert "signed out after a period without activity" in station.text("notice")
    actions = [(action, actor, detail) for action, actor, detail in _audit(station) if actor == "wang.li"]
    assert [a[0] for a in actions][-2:] == ["sign-in-ok", "sign-out"] and actions[-1][2] == "idle"


# --- submitting on behalf -----------------------------------------------------------------------------


def test_submission_on_behalf_records_the_agent_and_prints_the_receipt(make_station) -> None:
    station = make_station()
    station.sign_in("wang.li", AGENT_PIN)
    submit = station.window.page("submit")
    station.type("service_filter", "居住证")
    services = station.find("service_list", QListWidget)
    visible = [services.item(i) for i in range(services.count()) if not services.item(i).isHidden()]
    assert len(visible) == 1
    services.setCurrentItem(visible[0])
    station.click("service_next")

    # a typed number is checked by GB 11643 first
    station.type("citizen_id", "110105194912310021")
    station.click("use_number")
    assert "校验不通过" in station.text("problem")
    station.click("card_zhang_san")  # the simulated reader on a pty, read by the real driver
    station.qtbot.waitUntil(lambda: submit.step == "form", timeout=10_000)
    assert submit.field("name").findChild(QLineEdit, "input").text() == "张三"

    station.click("next")  # mobile is required: refused, said by the field
    assert station.find("summary").isVisible()
    mobile = submit.field("mobile").findChild(QLineEdit, "input")
    mobile.setFocus()
    station.qtbot.keyClicks(mobile, "13800138000")
    station.click("next")

    card = submit.field("current_address")
    for part, text in (("province", "广东省"), ("city", "深圳市"), ("district", "南山区"), ("detail", "科技园路1号")):
        card.findChild(QLineEdit, f"address_{part}").setText(text)
    _choose_date(submit.field("resident_since"), 2024, 3, 1)
    station.qtbot.mouseClick(submit.field("housing").findChild(QPushButton, "option_rented"), Qt.MouseButton.LeftButton)
    station.qtbot.mouseClick(submit.field("basis").findChild(QPushButton, "option_employment"),
                             Qt.MouseButton.LeftButton)
    station.settle()
    station.click("next")
    submit.field("employer").findChild(QLineEdit, "input").setText("深圳市某某科技有限公司")
    station.click("next")

    for field_id in ("residence_proof", "employment_proof"):
        scan = submit.field(field_id).findChild(QPushButton, "scan")
        station.qtbot.mouseClick(scan, Qt.MouseButton.LeftButton)
        station.qtbot.waitUntil(lambda f=field_id: station.state.session.wizard.answer(f), timeout=5000)
        station.settle()
    station.click("next")
    station.click("agree")
    # the citizen signs on the pad at the counter (with the mouse here)
    pad = submit.field("signature").findChild(QWidget, "SignaturePad")
    station.qtbot.mousePress(pad, Qt.MouseButton.LeftButton, pos=QPoint(60, 60))
    for x in range(70, 400, 30):
        station.qtbot.mouseMove(pad, QPoint(x, 60 + (x % 60)))
    station.qtbot.mouseRelease(pad, Qt.MouseButton.LeftButton, pos=QPoint(400, 90))
    station.click("next")
    assert submit.step == "review"
    assert "王丽" in station.text("on_behalf_note")
    station.click("submit")
    station.qtbot.waitUntil(lambda: submit.step == "done" and submit.print_outcome is not None, timeout=20_000)
    station.settle()
    receipt_no = station.text("receipt_no")
    assert submit.print_outcome.printed, submit.print_outcome.error
    assert station.text("print_status") == "回执已打印。"
    pdf = Path(submit.print_outcome.output)
    assert pdf.is_file() and pdf.suffix == ".pdf"

    with open_store(database_path(station.data_dir)) as store:
        entry = store.find(receipt_no)
        assert entry.summary.agent_id == "wang.li"
        assert entry.summary.applicant_name == "张*"
        assert entry.summary.session_seconds is not None
    assert ("submit-on-behalf", "wang.li") in [(a, actor) for a, actor, _d in _audit(station)]


# --- search and reprint --------------------------------------------------------------------------------


def test_search_by_receipt_and_id_number_then_reprint(make_station) -> None:
    station = make_station(language="en")
    receipt_no = _queue_one(station)
    other = _queue_one(station, name="李秀英", id_number="440305194103150027")
    station.sign_in("wang.li", AGENT_PIN)
    station.click("nav_search")

    station.type("search_receipt", receipt_no.lower().replace("-", " "))  # read tolerantly
    station.click("search_go")
    station.settle()
    table = station.find("results", QTableWidget)
    assert table.rowCount() == 1 and table.item(0, 0).text() == receipt_no
    assert table.item(0, 4).text() == "110105********002X"  # masked only

    station.click("search_clear")
    station.type("search_id", "11010519491231002x")  # the whole number: compared masked
    station.click("search_go")
    station.settle()
    table = station.find("results", QTableWidget)
    assert [table.item(r, 0).text() for r in range(table.rowCount())] == [receipt_no]

    station.type("search_id", "0027")  # the last four characters
    station.click("search_go")
    station.settle()
    table = station.find("results", QTableWidget)
    assert [table.item(r, 0).text() for r in range(table.rowCount())] == [other]

    station.type("search_id", "12")
    station.click("search_go")
    station.settle()
    assert "last 4 characters" in station.text("message")

    # by today's date: both, newest first; reprint the first one
    station.click("search_clear")
    station.find("search_by_day").setChecked(True)
    station.click("search_go")
    station.settle()
    table = station.find("results", QTableWidget)
    assert table.rowCount() == 2
    assert not station.find("reprint", QPushButton).isEnabled()
    station.window.page("search").select_receipt(receipt_no)
    station.click("reprint")
    station.settle()
    assert station.text("message") == f"Receipt {receipt_no} reprinted (recorded in the audit log)."
    pdfs = list((station.data_dir / "receipts").rglob("*.pdf"))
    assert len(pdfs) == 1 and pdfs[0].stat().st_size > 1000
    reprints = [(actor, d) for a, actor, d in _audit(station) if a == "reprint"]
    assert len(reprints) == 1 and reprints[0][0] == "wang.li" and receipt_no in reprints[0][1]


# --- the sync queue -------------------------------------------------------------------------------------


def _make_dead(station: Station, receipt_no: str, reason: str) -> str:
    with open_store(database_path(station.data_dir)) as store:
        entry = store.find(receipt_no)
        store.mark_dead(entry.submission_id, reason)
        return entry.submission_id


def test_only_a_supervisor_retries_or_cancels_a_dead_letter_with_a_reason(make_station) -> None:
    station = make_station(language="en")
    first, second = _queue_one(station), _queue_one(station)
    _make_dead(station, first, "form version 3 of residence-permit is retired")
    _make_dead(station, second, "attachment refused: file too large")

    station.sign_in("wang.li", AGENT_PIN)
    station.click("nav_queue")
    station.settle()
    assert station.text("count_dead") == "2"
    dead = station.find("dead_table", QTableWidget)
    assert {dead.item(r, 3).text() for r in range(dead.rowCount())} == {
        "form version 3 of residence-permit is retired", "attachment refused: file too large"}
    assert not station.find("dead_retry", QPushButton).isEnabled()
    assert not station.find("dead_cancel", QPushButton).isEnabled()
    assert "Only a supervisor" in station.text("supervisor_only")
    station.click("sign_out")
    station.settle()

    station.sign_in("zhao.min", SUPERVISOR_PIN)
    station.click("nav_queue")
    station.settle()
    assert not station.has("supervisor_only")
    page = station.window.page("queue")
    page.select_dead(first)
    station.click("dead_retry")
    station.settle()
    assert station.text("message") == "Please give the reason."
    page.select_dead(first)
    station.type("dead_reason", "form version republished")
    station.click("dead_retry")
    station.settle()
    assert station.text("message") == f"{first} queued again; it is sent on the next sync."
    assert station.text("count_dead") == "1"
    page.select_dead(second)
    station.type("dead_reason", "citizen will apply again")
    station.click("dead_cancel")
    station.settle()
    assert station.text("count_cancelled") == "1"
    with open_store(database_path(station.data_dir)) as store:
        assert store.find(first).state == "pending"
        assert store.find(second).state == "cancelled"
    entries = _audit(station)
    assert any(a == "retry" and actor == "zhao.min" and "form version republished" in (d or "")
               for a, actor, d in entries)
    assert any(a == "dead-cancel" and actor == "zhao.min" and "citizen will apply again" in (d or "")
               for a, actor, d in entries)


# --- the daily summary -----------------------------------------------------------------------------------


def test_daily_summary_shows_counts_and_exports_csv_and_pdf(make_station, tmp_path: Path) -> None:
    station = make_station()
    _queue_one(station)
    _queue_one(station)
    station.sign_in("wang.li", AGENT_PIN)
    station.click("nav_report")
    station.settle()
    assert station.text("figure_total") == "2"
    by_service = station.find("by_service", QTableWidget)
    assert by_service.rowCount() == 1 and by_service.item(0, 1).text() == "2"
    folder = tmp_path / "exports"
    station.export_folder.append(str(folder))
    station.click("report_export")
    station.settle()
    day = date.today().isoformat()
    csv_path, pdf_path = folder / f"daily-summary-{day}.csv", folder / f"daily-summary-{day}.pdf"
    assert "已导出" in station.text("message")
    assert pdf_path.read_bytes().startswith(b"%PDF")
    with csv_path.open(encoding="utf-8-sig") as handle:
        text = handle.read()
    assert "residence-permit" in text
    assert list(csv.reader(text.splitlines()))


def test_help_requests_say_offline_when_central_cannot_be_reached(make_station) -> None:
    station = make_station(language="en")
    station.sign_in("wang.li", AGENT_PIN)
    station.click("nav_help")
    station.qtbot.waitUntil(lambda: station.has("help_offline"), timeout=15_000)
    assert "cannot be reached" in station.text("help_offline")


def test_language_switch_keeps_the_page(make_station) -> None:
    station = make_station()
    station.sign_in("wang.li", AGENT_PIN)
    station.click("nav_search")
    station.click("language")
    assert station.text("title") == "Search and reprint"
    station.click("language")
    assert station.text("title") == "查询与补打回执"
