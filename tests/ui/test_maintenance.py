"""The technicians' maintenance screen: the gesture, the technician sign-in, the self-test, enrolment by QR code."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QLineEdit

from kiosk.i18n import tr
from sync.staff import add_staff
from sync.store import database_path, open_store
from tests.support.central_process import central_cli, running_central
from tests.ui.test_status_lookup import _install_wedge, _wedge_scan


def _add(data_dir: Path, name: str, role: str, pin: str = "482913") -> None:
    with open_store(database_path(data_dir)) as store:
        add_staff(store, name, pin, role, display_name=name.title())


def _open_maintenance(kiosk) -> None:
    hall = kiosk.find("hall", QLabel)
    for _ in range(5):
        kiosk.qtbot.mouseClick(hall, Qt.MouseButton.LeftButton)
    kiosk.wait_screen("maintenance")


def _sign_in(kiosk, name: str, pin: str) -> None:
    kiosk.find("maintenance_user", QLineEdit).setText(name)
    pin_box = kiosk.find("maintenance_pin", QLineEdit)
    pin_box.setFocus()
    kiosk.keypad(pin)
    kiosk.tap("sign_in")
    kiosk.settle()


def test_four_taps_do_nothing_five_open_it_and_a_citizen_account_cannot_sign_in(make_kiosk, data_dir: Path) -> None:
    kiosk = make_kiosk()
    _add(data_dir, "agent1", "agent")
    hall = kiosk.find("hall", QLabel)
    for _ in range(4):
        kiosk.qtbot.mouseClick(hall, Qt.MouseButton.LeftButton)
    assert kiosk.screen == "home"
    kiosk.qtbot.mouseClick(hall, Qt.MouseButton.LeftButton)
    kiosk.wait_screen("maintenance")
    _sign_in(kiosk, "nobody", "123456")
    assert kiosk.text("error") == tr("zh_CN", "maintenance.wrong")
    _sign_in(kiosk, "agent1", "482913")
    assert kiosk.text("error") == tr("zh_CN", "maintenance.not_technician")
    kiosk.tap("leave")
    kiosk.wait_screen("home")


def test_a_technician_sees_the_self_test_and_enrols_the_kiosk_by_scanning_its_qr(
    make_kiosk, data_dir: Path, tmp_path: Path
) -> None:
    _add(data_dir, "tech", "technician")
    kiosk = make_kiosk(enrolled=False)
    _install_wedge(kiosk)
    _open_maintenance(kiosk)
    _sign_in(kiosk, "tech", "482913")
    kiosk.qtbot.waitUntil(lambda: kiosk.has("check_enrolment"), timeout=30_000)
    assert kiosk.text("check_enrolment").startswith("[FAIL]")  # not enrolled yet: says so, with the fix
    central_dir = tmp_path / "central"
    with running_central(central_dir) as url:
        made = json.loads(central_cli(central_dir, "enroll-code", "create", "--site", "MT01", "--url", url,
                                      "--json").stdout)
        _wedge_scan(kiosk, made["qr_text"])
        kiosk.qtbot.waitUntil(lambda: kiosk.has("message") and "MT01" in kiosk.text("message"), timeout=30_000)
        with open_store(database_path(data_dir)) as store:
            assert store.enrolment() is not None and store.enrolment().site_code == "MT01"
        kiosk.qtbot.waitUntil(lambda: kiosk.has("check_enrolment")
                              and kiosk.text("check_enrolment").startswith("[PASS]"), timeout=30_000)


def test_an_enrolment_qr_on_a_citizen_screen_enrols_nothing(make_kiosk, data_dir: Path) -> None:
    kiosk = make_kiosk(enrolled=False)
    _install_wedge(kiosk)
    _wedge_scan(kiosk, 'tongban-enrol:{"url": "http://127.0.0.1:9", "code": "ABCD-EFGH-JKLM"}')
    kiosk.qtbot.waitUntil(lambda: kiosk.has("overlay_title"), timeout=5_000)
    with open_store(database_path(data_dir)) as store:
        assert store.enrolment() is None
