"""Appointment check-in, walk-in tickets and "call staff" at the kiosk, against the real central platform.

Appointment tokens are made by ``kiosk-central appointments create`` (signed with the
platform's appointment key, which the kiosk got at enrolment) and come in as a
keyboard-wedge scanner types them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from kiosk.commands.enroll import enrol_terminal
from kiosk.i18n import tr
from sync.checkin import MESSAGES, RefusalKind
from sync.client import CentralClient
from sync.store import database_path, open_store
from tests.support.central_process import central_cli, start_central_process, stop_central_process
from tests.ui.test_status_lookup import _install_wedge, _wedge_scan

SITE = "AP01"


@pytest.fixture
def central(tmp_path: Path, data_dir: Path) -> Iterator[Path]:
    """The platform on 127.0.0.1 with the kiosk's store enrolled at it; yields its data folder."""
    central_dir = tmp_path / "central"
    url, proc = start_central_process(central_dir)
    try:
        code = json.loads(central_cli(central_dir, "enroll-code", "create", "--site", SITE, "--json").stdout)
        with open_store(database_path(data_dir)) as store, CentralClient(url) as client:
            enrol_terminal(store, client, code["code"])
        yield central_dir
    finally:
        stop_central_process(proc)


def _appointment(central_dir: Path, minutes_from_now: int = 10) -> str:
    slot = (datetime.now().astimezone() + timedelta(minutes=minutes_from_now)).replace(microsecond=0)
    done = central_cli(central_dir, "appointments", "create", "--service", "residence-permit", "--slot",
                       slot.isoformat(), "--name", "王小明", "--hall", SITE, "--json")
    assert done.returncode == 0, done.stderr
    return str(json.loads(done.stdout)["token"])


def test_an_appointment_qr_checks_in_prints_a_ticket_and_cannot_be_used_twice(
    make_kiosk, central: Path, data_dir: Path
) -> None:
    token = _appointment(central)
    kiosk = make_kiosk(enrolled=False)
    _install_wedge(kiosk)
    _wedge_scan(kiosk, token)  # on the home screen: straight to the check-in
    kiosk.wait_screen("appointment")
    kiosk.qtbot.waitUntil(lambda: kiosk.has("ticket_no"), timeout=20_000)
    assert kiosk.text("ticket_no") == "Y001"
    assert kiosk.text("masked_name") == "预约人：王*明"
    kiosk.qtbot.waitUntil(lambda: kiosk.has("print_state"), timeout=5_000)
    assert kiosk.text("print_state") == tr("zh_CN", "appointment.printed")
    assert list((data_dir / "receipts").glob("*/ticket-Y001-*.pdf")), "no ticket PDF was printed"
    kiosk.tap("done")
    kiosk.wait_screen("home")
    _wedge_scan(kiosk, token)  # the same code again
    kiosk.qtbot.waitUntil(lambda: kiosk.has("refusal"), timeout=20_000)
    assert kiosk.text("refusal") == MESSAGES[RefusalKind.USED]["zh_CN"] and not kiosk.has("ticket_no")
    kiosk.tap("lang_en")  # the refusal follows the language
    assert kiosk.text("refusal") == MESSAGES[RefusalKind.USED]["en"]


def test_a_forged_or_early_appointment_is_refused_in_plain_words(make_kiosk, central: Path) -> None:
    token = _appointment(central)
    head, claims, signature = token.split(".")
    forged = ".".join((head, claims, ("A" if signature[0] != "A" else "B") + signature[1:]))
    kiosk = make_kiosk(enrolled=False)
    _install_wedge(kiosk)
    kiosk.tap("appointment")
    _wedge_scan(kiosk, forged)
    kiosk.qtbot.waitUntil(lambda: kiosk.has("refusal"), timeout=20_000)
    assert kiosk.text("refusal") == MESSAGES[RefusalKind.FORGED]["zh_CN"]
    early = _appointment(central, minutes_from_now=600)
    _wedge_scan(kiosk, early)
    early_message = MESSAGES[RefusalKind.TOO_EARLY]["zh_CN"].split("{")[0]  # "您来早了，请于 " + the time
    kiosk.qtbot.waitUntil(lambda: kiosk.has("refusal") and kiosk.text("refusal").startswith(early_message),
                          timeout=20_000)


def test_a_walk_in_takes_a_numbered_ticket_for_a_category(make_kiosk, central: Path) -> None:
    kiosk = make_kiosk(enrolled=False)
    kiosk.tap("appointment")
    kiosk.tap("walk_in")
    first = kiosk.state.catalog.categories[0]
    kiosk.tap(f"ticket_{first.id}")
    kiosk.qtbot.waitUntil(lambda: kiosk.has("ticket_no"), timeout=20_000)
    assert kiosk.text("ticket_no") == "A001"
    assert kiosk.text("waiting") == tr("zh_CN", "appointment.waiting", count=0)
    kiosk.tap("done")
    kiosk.tap("appointment")
    kiosk.tap("walk_in")
    kiosk.tap(f"ticket_{first.id}")
    kiosk.qtbot.waitUntil(lambda: kiosk.has("ticket_no"), timeout=20_000)
    assert kiosk.text("ticket_no") == "A002" and kiosk.text("waiting") == tr("zh_CN", "appointment.waiting", count=1)


def test_call_staff_reaches_the_platform_or_sends_the_citizen_to_the_desk(
    make_kiosk, central: Path, tmp_path: Path
) -> None:
    kiosk = make_kiosk(enrolled=False)
    kiosk.tap("call_staff")
    kiosk.qtbot.waitUntil(lambda: kiosk.text("overlay_text") == tr("zh_CN", "staff.called"), timeout=20_000)
    kiosk.tap("overlay_ok")
    assert not kiosk.window.overlay.is_open


def test_call_staff_offline_says_go_to_the_help_desk(make_kiosk) -> None:
    kiosk = make_kiosk()  # enrolled at an address where nothing listens
    kiosk.tap("call_staff")
    kiosk.qtbot.waitUntil(lambda: kiosk.text("overlay_text") == tr("zh_CN", "staff.offline"), timeout=20_000)
