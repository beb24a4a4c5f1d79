"""Appointment tokens from the real platform, checked in offline at a real terminal."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from devices.appointment import Appointment, sign_appointment_token, verify_appointment_token
from sync.checkin import (
    CheckinRefused,
    CheckinWindow,
    RefusalKind,
    check_in_appointment,
    take_ticket,
)
from sync.enrolment import Enrolment
from tests.hall.conftest import SITE, Central, Terminal

SLOT = datetime(2030, 5, 20, 1, 30, tzinfo=UTC)  # 09:30 in the hall (Asia/Shanghai)
SLOT_TEXT = "2030-05-20T09:30"  # given without offset: the hall's local time

# the platform's database: each test runs on SQLite and on PostgreSQL
pytestmark = pytest.mark.parametrize("central_database", ["sqlite", "postgres"], indirect=True, scope="module")


def _at(minutes_from_slot: float) -> datetime:
    return SLOT + timedelta(minutes=minutes_from_slot)


def _refusal(terminal: Terminal, token: str, now: datetime) -> CheckinRefused:
    with pytest.raises(CheckinRefused) as caught:
        check_in_appointment(terminal.store, token, now=now)
    return caught.value


def test_created_token_names_the_slot_in_hall_time_and_masks_the_name(central: Central, terminal: Terminal) -> None:
    made = central.appointment(SLOT_TEXT, name="张小三")
    key = terminal.store.require_enrolment().appointment_signing_key
    assert key is not None
    claims = verify_appointment_token(made["token"], key, now=_at(0).timestamp())
    assert claims.slot == "2030-05-20T09:30+08:00"
    assert claims.masked_name == "张*三"
    assert claims.hall == SITE and claims.service == "residence-permit"
    assert "小" not in made["token"] and len(made["token"]) < 400  # compact, and no clear name


def test_valid_token_checks_in_and_issues_the_first_appointment_ticket(central: Central, terminal: Terminal) -> None:
    made = central.appointment(SLOT_TEXT, name="李四")
    ticket = check_in_appointment(terminal.store, made["token"], now=_at(-10))
    assert ticket.ticket_no == "Y001"
    assert ticket.appointment_id == made["appointment_id"]
    assert ticket.masked_name == "李*"
    second = check_in_appointment(terminal.store, central.appointment(SLOT_TEXT)["token"], now=_at(-5))
    assert second.ticket_no == "Y002" and second.waiting_ahead == 1


def test_reused_token_is_refused_at_the_same_terminal(central: Central, terminal: Terminal) -> None:
    token = central.appointment(SLOT_TEXT)["token"]
    check_in_appointment(terminal.store, token, now=_at(0))
    refused = _refusal(terminal, token, _at(1))
    assert refused.kind == RefusalKind.USED
    assert "已签到" in refused.message("zh_CN") and "already" in refused.message("en")


def test_expired_token_is_refused(central: Central, terminal: Terminal) -> None:
    token = central.appointment(SLOT_TEXT, valid_minutes="30")["token"]
    refused = _refusal(terminal, token, _at(31))
    assert refused.kind == RefusalKind.EXPIRED
    assert refused.message("en").startswith("This appointment has expired")


def test_early_token_is_refused_with_the_time_check_in_opens(central: Central, terminal: Terminal) -> None:
    token = central.appointment(SLOT_TEXT)["token"]
    with pytest.raises(CheckinRefused) as caught:
        check_in_appointment(terminal.store, token, now=_at(-61), window=CheckinWindow(timedelta(minutes=60)))
    refused = caught.value
    assert refused.kind == RefusalKind.TOO_EARLY
    assert refused.opens_at == _at(-60)
    assert refused.opens_at.astimezone().strftime("%H:%M") in refused.message("zh_CN")
    # Inside the window it is accepted.
    assert check_in_appointment(terminal.store, token, now=_at(-59)).ticket_no.startswith("Y")


def test_forged_tokens_are_refused(central: Central, terminal: Terminal) -> None:
    other_key = Ed25519PrivateKey.generate()
    claims = Appointment("APFAKE000001", "residence-permit", "2030-05-20T09:30+08:00", "王*", SITE,
                         int(_at(30).timestamp()))
    forged = sign_appointment_token(claims, other_key)
    assert _refusal(terminal, forged, _at(0)).kind == RefusalKind.FORGED
    # A genuine token with its claims altered (another hall) no longer verifies.
    genuine = central.appointment(SLOT_TEXT)["token"]
    prefix, body, signature = genuine.split(".")
    data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    data["slot"] = "2030-05-20T15:30+08:00"
    altered_body = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    assert _refusal(terminal, f"{prefix}.{altered_body}.{signature}", _at(0)).kind == RefusalKind.FORGED
    assert _refusal(terminal, "TBA1.not-a-token", _at(0)).kind == RefusalKind.INVALID
    messages = {kind: CheckinRefused(kind, "x").message("en") for kind in
                (RefusalKind.FORGED, RefusalKind.EXPIRED, RefusalKind.USED, RefusalKind.TOO_EARLY)}
    assert len(set(messages.values())) == 4  # every refusal reads differently


def test_token_for_another_hall_is_refused(central: Central, terminal: Terminal) -> None:
    token = central.appointment(SLOT_TEXT, hall="ZZ99")["token"]
    assert _refusal(terminal, token, _at(0)).kind == RefusalKind.WRONG_HALL


def test_enrolment_from_before_appointment_keys_still_loads_and_refuses_check_in(
    central: Central, terminal: Terminal
) -> None:
    old = terminal.store.require_enrolment()
    settings_json = json.loads(terminal.store.get_setting("enrolment") or "{}")
    settings_json.pop("appointment_signing_key")
    with terminal.store.transaction() as db:
        db.execute("UPDATE settings SET value = ? WHERE key = 'enrolment'", (json.dumps(settings_json),))
    loaded = terminal.store.require_enrolment()
    assert isinstance(loaded, Enrolment) and loaded.appointment_signing_key is None
    assert loaded.device_id == old.device_id
    refused = _refusal(terminal, central.appointment(SLOT_TEXT)["token"], _at(0))
    assert refused.kind == RefusalKind.NO_KEY


def test_check_in_syncs_once_and_marks_the_appointment_used(central: Central, terminal: Terminal) -> None:
    made = central.appointment(SLOT_TEXT)
    ticket = check_in_appointment(terminal.store, made["token"], now=_at(0))
    walk_in = take_ticket(terminal.store, "housing", "D", now=_at(1))
    first = terminal.sync()
    assert first.hall_records >= 2
    # A lost answer means a resend: simulate it by forgetting the acknowledgement.
    with terminal.store.transaction() as db:
        db.execute("UPDATE checkins SET synced_at = NULL")
    terminal.sync()
    received = [c for c in central.json("checkins", "list") if c["device_id"] == terminal.device_id]
    assert sorted(c["ticket_no"] for c in received) == sorted([ticket.ticket_no, walk_in.ticket_no])
    assert {c["checkin_id"] for c in received} == {ticket.checkin_id, walk_in.checkin_id}
    with terminal.store.reading() as db:
        assert db.execute("SELECT COUNT(*) FROM checkins WHERE synced_at IS NULL").fetchone()[0] == 0


def test_appointment_used_at_another_terminal_is_refused_after_sync(
    central: Central, make_terminal: Callable[..., Terminal]
) -> None:
    first, second = make_terminal(), make_terminal()
    token = central.appointment(SLOT_TEXT)["token"]
    check_in_appointment(first.store, token, now=_at(0))
    first.sync()
    second.sync()  # learns which appointments were used in the hall
    refused = _refusal(second, token, _at(2))
    assert refused.kind == RefusalKind.USED
    assert "another terminal" in str(refused)


def test_double_check_in_offline_is_refused_by_the_platform_for_the_second(
    central: Central, make_terminal: Callable[..., Terminal]
) -> None:
    first, second = make_terminal(), make_terminal()
    token = central.appointment(SLOT_TEXT)["token"]
    check_in_appointment(first.store, token, now=_at(0))
    check_in_appointment(second.store, token, now=_at(1))  # offline: cannot know yet
    first.sync()
    report = second.sync()
    assert any("appointment_used" in e for e in report.errors)
    with second.store.reading() as db:
        error = db.execute("SELECT sync_error FROM checkins").fetchone()[0]
    assert error.startswith("appointment_used")


def test_walk_in_tickets_count_per_category_prefix(terminal: Terminal) -> None:
    numbers = [take_ticket(terminal.store, "housing", "D", now=_at(i)).ticket_no for i in range(3)]
    other = take_ticket(terminal.store, "business", "E", now=_at(4))
    assert numbers == ["D001", "D002", "D003"] and other.ticket_no == "E001"
    next_day = take_ticket(terminal.store, "housing", "D", now=_at(24 * 60))
    assert next_day.ticket_no == "D001"
