"""Every scan is classified, bounded and never evaluated; forged tokens never pass."""

from __future__ import annotations

import base64
import datetime as dt
import json
import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from devices.appointment import (
    Appointment,
    AppointmentExpired,
    AppointmentTokenError,
    sign_appointment_token,
    verify_appointment_token,
)
from devices.enrolment_qr import EnrolmentCode, EnrolmentQrError, make_enrolment_qr, parse_enrolment_qr
from devices.payload import MAX_PAYLOAD_BYTES, PayloadKind, classify
from sync.receipt import ReceiptNumber

TODAY = dt.date(2025, 6, 1)
NOW = dt.datetime(2025, 6, 1, 9, 0, tzinfo=dt.UTC).timestamp()
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
PUBLIC = KEY.public_key()
OTHER_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
APPOINTMENT = Appointment(
    appointment_id="apt-0001",
    service="residence-permit",
    slot="2025-06-01T10:30",
    masked_name="张*三",
    hall="SZ01",
    exp=int(NOW) + 3600,
)
RECEIPT = str(ReceiptNumber.issue("SZ01", "K7M", dt.date(2025, 6, 1), 42))
ID_NUMBER = "11010519491231002X"
TD3 = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10"


def kind_of(text: str) -> PayloadKind:
    return classify(text, appointment_key=PUBLIC, now=NOW, today=TODAY).kind


# --- each kind ---------------------------------------------------------------------------


def test_a_receipt_number_in_any_common_spelling_is_a_receipt() -> None:
    for text in (RECEIPT, RECEIPT.lower(), RECEIPT.replace("-", ""), f"{RECEIPT}\r\n", "\x00" + RECEIPT):
        payload = classify(text, today=TODAY)
        assert payload.kind is PayloadKind.RECEIPT and payload.ok
        assert str(payload.receipt) == RECEIPT


def test_a_receipt_with_a_mistyped_character_is_not_a_receipt() -> None:
    wrong = RECEIPT[:-1] + ("0" if RECEIPT[-1] != "0" else "1")
    payload = classify(wrong, today=TODAY)
    assert payload.receipt is None and payload.kind is not PayloadKind.RECEIPT


def test_a_signed_appointment_token_is_verified_offline() -> None:
    token = sign_appointment_token(APPOINTMENT, KEY)
    payload = classify(token, appointment_key=PUBLIC, now=NOW)
    assert payload.kind is PayloadKind.APPOINTMENT and payload.ok
    assert payload.appointment == APPOINTMENT
    # the raw 32-byte key from enrolment works as well as a key object
    raw = PUBLIC.public_bytes_raw()
    assert classify(token, appointment_key=raw, now=NOW).appointment == APPOINTMENT


def test_a_token_signed_by_someone_else_is_refused() -> None:
    forged = sign_appointment_token(APPOINTMENT, OTHER_KEY)
    payload = classify(forged, appointment_key=PUBLIC, now=NOW)
    assert payload.kind is PayloadKind.APPOINTMENT and payload.appointment is None
    assert "not issued by this platform" in (payload.problem or "")


def test_a_token_with_altered_claims_is_refused() -> None:
    token = sign_appointment_token(APPOINTMENT, KEY)
    _, claims, signature = token.split(".")
    altered = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
    altered["exp"] += 86_400
    new_claims = base64.urlsafe_b64encode(json.dumps(altered).encode()).rstrip(b"=").decode()
    with pytest.raises(AppointmentTokenError, match="does not verify"):
        verify_appointment_token(f"TBA1.{new_claims}.{signature}", PUBLIC, now=NOW)


def test_an_expired_token_says_so() -> None:
    token = sign_appointment_token(APPOINTMENT, KEY)
    with pytest.raises(AppointmentExpired):
        verify_appointment_token(token, PUBLIC, now=APPOINTMENT.exp)
    payload = classify(token, appointment_key=PUBLIC, now=APPOINTMENT.exp + 1)
    assert payload.kind is PayloadKind.APPOINTMENT and "expired" in (payload.problem or "")


def test_a_token_cannot_be_checked_without_the_platform_key() -> None:
    payload = classify(sign_appointment_token(APPOINTMENT, KEY), now=NOW)
    assert payload.kind is PayloadKind.APPOINTMENT and payload.appointment is None
    assert "enrolled" in (payload.problem or "")


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({**APPOINTMENT.__dict__, "extra": 1}, "exactly"),
        ({k: v for k, v in APPOINTMENT.__dict__.items() if k != "hall"}, "exactly"),
        ({**APPOINTMENT.__dict__, "exp": True}, "exp must be"),
        ({**APPOINTMENT.__dict__, "exp": "tomorrow"}, "exp must be"),
        ({**APPOINTMENT.__dict__, "service": ""}, "service must be"),
        ([1, 2, 3], "exactly"),
    ],
)
def test_signed_but_malformed_claims_are_refused(claims: object, reason: str) -> None:
    body = "TBA1." + base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    signature = base64.urlsafe_b64encode(KEY.sign(body.encode())).rstrip(b"=").decode()
    with pytest.raises(AppointmentTokenError, match=reason):
        verify_appointment_token(f"{body}.{signature}", PUBLIC, now=NOW)


@pytest.mark.parametrize("text", ["TBA1.", "TBA1.a.b.c", "TBA1.!!!.AAAA", "TBA1.e30.AAAA", "TBA1." + "A" * 2000])
def test_malformed_tokens_are_appointments_with_a_problem(text: str) -> None:
    payload = classify(text, appointment_key=PUBLIC, now=NOW)
    assert payload.kind is PayloadKind.APPOINTMENT and payload.problem and payload.appointment is None


def test_id_numbers() -> None:
    payload = classify(ID_NUMBER.lower() + "\n", today=TODAY)
    assert payload.kind is PayloadKind.ID_NUMBER and payload.id_number == ID_NUMBER
    bad = classify("110105194912310021", today=TODAY)
    assert bad.kind is PayloadKind.ID_NUMBER and bad.id_number is None and "not valid" in (bad.problem or "")


def test_an_mrz_is_read_with_its_check_digits() -> None:
    payload = classify(TD3, today=TODAY)
    assert payload.kind is PayloadKind.MRZ and payload.mrz is not None
    assert payload.mrz.document_number == "L898902C3"
    broken = classify(TD3.replace("ZE184226B<<<<<10", "ZE184226B<<<<<11"), today=TODAY)
    assert broken.kind is PayloadKind.MRZ and broken.mrz is None and "composite" in (broken.problem or "")


def test_enrolment_qr_round_trips_and_keeps_the_code_out_of_repr() -> None:
    code = EnrolmentCode(url="https://central.example.gov.cn:8443/", code="K7M2-9QXD")
    text = make_enrolment_qr(code)
    payload = classify(text)
    assert payload.kind is PayloadKind.ENROLMENT and payload.enrolment == code
    assert "K7M2" not in repr(payload.enrolment) and "K7M2" not in repr(payload)


@pytest.mark.parametrize(
    "text",
    [
        "tongban-enrol:",
        "tongban-enrol:not json",
        'tongban-enrol:{"url":"https://x.cn","code":"abcd","more":1}',
        'tongban-enrol:{"url":"javascript:alert(1)","code":"abcd"}',
        'tongban-enrol:{"url":"file:///etc/passwd","code":"abcd"}',
        'tongban-enrol:{"url":"https://x.cn","code":"a"}',
        'tongban-enrol:{"url":"https://x.cn","code":12345}',
        'tongban-enrol:{"url":"https://x.cn:99999","code":"abcd"}',
    ],
)
def test_malformed_enrolment_codes_are_refused_with_a_reason(text: str) -> None:
    with pytest.raises(EnrolmentQrError):
        parse_enrolment_qr(text)
    payload = classify(text)
    assert payload.kind is PayloadKind.ENROLMENT and payload.enrolment is None and payload.problem


def test_urls_are_recognised_but_only_http_and_https() -> None:
    payload = classify("https://zwfw.example.gov.cn/item?id=1")
    assert payload.kind is PayloadKind.URL and payload.url == "https://zwfw.example.gov.cn/item?id=1"
    for text in ("javascript:alert(1)", "file:///etc/passwd", "data:text/html,<b>x</b>", "https://", "http://a b"):
        assert kind_of(text) is PayloadKind.UNKNOWN, text


@pytest.mark.parametrize(
    "text", ["hello", "__import__('os').system('rm -rf /')", "9787111213826", "{}", "   ", "办事指南", "\x00\x01"]
)
def test_everything_else_is_unknown(text: str) -> None:
    assert kind_of(text) is PayloadKind.UNKNOWN


def test_oversized_payloads_are_refused_without_keeping_them() -> None:
    payload = classify("A" * (MAX_PAYLOAD_BYTES + 1))
    assert payload.kind is PayloadKind.UNKNOWN and "more than" in (payload.problem or "")
    assert len(payload.text) <= 64
    # the bound is in bytes: 1,400 Chinese characters are 4,200 UTF-8 bytes
    assert classify("办" * 1400).problem


def test_repr_hides_personal_data() -> None:
    assert ID_NUMBER not in repr(classify(ID_NUMBER, today=TODAY))
    assert "ERIKSSON" not in repr(classify(TD3, today=TODAY))


# --- properties --------------------------------------------------------------------------

ADVERSARIAL = st.one_of(
    st.text(max_size=500),
    st.text(alphabet="TBA1.-_=+/0123456789abcdefABCDEF<{}\":,", max_size=500).map(lambda s: "TBA1." + s),
    st.text(max_size=300).map(lambda s: "tongban-enrol:" + s),
    st.text(alphabet="0123456789Xx -", min_size=10, max_size=40),
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<\n ", min_size=60, max_size=140),
    st.builds(lambda a, b: a * b, st.text(min_size=1, max_size=3), st.integers(min_value=1000, max_value=5000)),
)


@given(ADVERSARIAL)
def test_classify_never_crashes_and_answers_quickly(text: str) -> None:
    start = time.perf_counter()
    payload = classify(text, appointment_key=PUBLIC, now=NOW, today=TODAY)
    assert time.perf_counter() - start < 0.5
    assert isinstance(payload.kind, PayloadKind)
    values = [payload.receipt, payload.appointment, payload.id_number, payload.mrz, payload.enrolment, payload.url]
    assert sum(v is not None for v in values) == (1 if payload.ok and payload.kind is not PayloadKind.UNKNOWN else 0)


@given(st.binary(max_size=300))
def test_random_bytes_decoded_any_way_never_crash(raw: bytes) -> None:
    for text in (raw.decode("latin-1"), raw.decode("utf-8", "replace")):
        classify(text, appointment_key=PUBLIC, now=NOW, today=TODAY)


@given(st.binary(min_size=0, max_size=200), st.binary(min_size=0, max_size=80))
def test_random_signed_looking_tokens_never_verify(claims: bytes, signature: bytes) -> None:
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    payload = classify(f"TBA1.{b64(claims)}.{b64(signature)}", appointment_key=PUBLIC, now=NOW)
    assert payload.kind is PayloadKind.APPOINTMENT and payload.appointment is None
