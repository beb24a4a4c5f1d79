"""The ID card reader driver against the simulator on a real pty, including every fault."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.ethnicity import ETHNICITIES
from devices.health import HealthState
from devices.idcard import (
    PREAMBLE,
    CardDataError,
    CardRemoved,
    ChecksumError,
    IdCardError,
    IdCardReader,
    ReaderDisconnected,
    ReaderNotFound,
    ReaderTimeout,
    UnsupportedCard,
    build_frame,
    decode_identity,
    encode_identity,
    read_frame,
    xor_checksum,
)
from devices.idcard_simulator import IdCardSimulator, demo_identity
from devices.identity import Identity
from forms.model import PREFILL_SOURCES

TODAY = dt.date(2025, 6, 1)
PERSON = demo_identity()
ELDER = dataclasses.replace(
    PERSON,
    name="阿依古丽·买买提明",
    sex="female",
    ethnicity="维吾尔",
    birth_date="1970-01-01",
    id_number="650102197001011248",
    address="新疆维吾尔自治区乌鲁木齐市天山区解放南路1号",
    issuing_authority="乌鲁木齐市公安局天山分局",
    valid_from="2016-05-20",
    valid_until="长期",
)


@pytest.fixture
def simulator() -> Iterator[IdCardSimulator]:
    with IdCardSimulator(PERSON) as sim:
        yield sim


@pytest.fixture
def reader(simulator: IdCardSimulator) -> Iterator[IdCardReader]:
    with IdCardReader(simulator.port, timeout=0.5) as reader:
        yield reader


# --- frames ------------------------------------------------------------------------------


def test_frames_have_the_preamble_length_and_xor_checksum() -> None:
    frame = build_frame(b"\x20\x01")
    assert frame == bytes.fromhex("AAAAAA9669 0003 2001 22".replace(" ", ""))
    assert frame.startswith(PREAMBLE) and xor_checksum(frame[5:-1]) == frame[-1]


def test_read_frame_skips_noise_and_refuses_damage() -> None:
    stream = iter(b"\x00\x13garbage" + build_frame(b"\x00\x00\x90abc"))
    assert read_frame(lambda n: bytes([next(stream)]), time.monotonic() + 1) == b"\x00\x00\x90abc"
    damaged = bytearray(build_frame(b"\x00\x00\x90abc"))
    damaged[-2] ^= 0x01
    stream = iter(bytes(damaged))
    with pytest.raises(ChecksumError):
        read_frame(lambda n: bytes([next(stream)]), time.monotonic() + 1)


def test_read_frame_times_out_on_silence() -> None:
    with pytest.raises(ReaderTimeout):
        read_frame(lambda n: b"", time.monotonic() + 0.05)


@given(st.binary(max_size=300))
def test_read_frame_never_hangs_or_crashes_on_random_bytes(data: bytes) -> None:
    stream = iter(data)

    def read(n: int) -> bytes:  # one byte at a time, then silence, like a serial port
        return bytes([next(stream, 0)]) if n else b""

    started = time.monotonic()
    try:
        read_frame(read, started + 0.01)
    except IdCardError:
        pass
    assert time.monotonic() - started < 0.5


# --- the text block ----------------------------------------------------------------------


def test_the_text_block_round_trips_every_field() -> None:
    text = encode_identity(ELDER)
    assert len(text) == 256
    identity = decode_identity(text, ELDER.photo_bytes, today=TODAY)
    assert identity == ELDER
    assert identity.valid_until == "长期"


def test_all_56_ethnic_groups_and_the_two_other_codes_are_named() -> None:
    assert len(ETHNICITIES) == 58
    assert {"01", "56", "97", "98"} <= set(ETHNICITIES)
    for name in ETHNICITIES.values():
        person = dataclasses.replace(PERSON, ethnicity=name)
        assert decode_identity(encode_identity(person), today=TODAY).ethnicity == name


def test_a_damaged_id_number_is_refused_not_shown() -> None:
    bad = dataclasses.replace(PERSON, id_number="310115199003074510")
    with pytest.raises(CardDataError, match="GB 11643"):
        decode_identity(encode_identity(bad), today=TODAY)


def test_an_id_number_that_disagrees_with_the_card_is_refused() -> None:
    with pytest.raises(CardDataError, match="disagrees"):
        decode_identity(encode_identity(dataclasses.replace(PERSON, sex="female")), today=TODAY)


def test_unknown_codes_and_dates_are_refused() -> None:
    text = bytearray(encode_identity(PERSON))
    text[32:36] = "99".encode("utf-16-le")  # ethnicity
    with pytest.raises(CardDataError, match="ethnicity"):
        decode_identity(bytes(text), today=TODAY)
    text = bytearray(encode_identity(PERSON))
    text[30:32] = "9".encode("utf-16-le")  # sex
    with pytest.raises(CardDataError, match="sex"):
        decode_identity(bytes(text), today=TODAY)
    with pytest.raises(CardDataError, match="not a date"):
        decode_identity(encode_identity(dataclasses.replace(PERSON, valid_from="2015-13-01")), today=TODAY)


def test_residence_permits_without_ethnicity_read_and_foreigner_cards_are_refused_clearly() -> None:
    permit = dataclasses.replace(PERSON, ethnicity="")
    assert decode_identity(encode_identity(permit, card_type="J"), today=TODAY).ethnicity == ""
    with pytest.raises(UnsupportedCard, match="by hand"):
        decode_identity(encode_identity(PERSON, card_type="I"), today=TODAY)


@given(st.binary(min_size=256, max_size=256))
def test_random_text_blocks_never_crash(text: bytes) -> None:
    try:
        decode_identity(text, today=TODAY)
    except CardDataError:
        pass


def test_identity_feeds_the_forms_prefill_sources_and_hides_itself() -> None:
    prefill = PERSON.as_prefill()
    assert set(prefill) == set(PREFILL_SOURCES)
    assert prefill["sex"] == "male" and prefill["birth_date"] == "1990-03-07" and prefill["ethnicity"] == "汉"
    assert "photo_bytes" not in prefill
    assert PERSON.name not in repr(PERSON) and PERSON.id_number not in repr(PERSON)


def test_a_card_read_prefills_a_real_form() -> None:
    from forms import Wizard, load_definition
    from tests.support.cli import REPO

    definition = load_definition(REPO / "catalog" / "services" / "medical-insurance-enrollment.yaml")
    wizard = Wizard(definition, identity=ELDER.as_prefill())
    filled = {f.prefill for f in definition.fields if f.prefill and wizard.is_prefilled(f.id)}
    assert {"name", "sex", "ethnicity", "id_number"} <= filled


# --- the driver against the simulator ------------------------------------------------------


def test_a_card_on_the_reader_is_read_completely(reader: IdCardReader, simulator: IdCardSimulator) -> None:
    identity = reader.read_identity(today=TODAY)
    assert identity == PERSON
    assert identity is not None and identity.photo_bytes == PERSON.photo_bytes and len(identity.photo_bytes) == 1024
    assert simulator.commands == [b"\x20\x01", b"\x20\x02", b"\x30\x01"]


def test_no_card_means_none(reader: IdCardReader, simulator: IdCardSimulator) -> None:
    simulator.remove_card()
    assert reader.read_identity(today=TODAY) is None
    simulator.insert_card(ELDER)
    assert reader.read_identity(today=TODAY) == ELDER


def test_a_single_damaged_answer_is_read_again(reader: IdCardReader, simulator: IdCardSimulator) -> None:
    simulator.corrupt_next_answers(1)
    assert reader.read_identity(today=TODAY) == PERSON


def test_a_reader_that_keeps_sending_damaged_answers_says_so(
    reader: IdCardReader, simulator: IdCardSimulator
) -> None:
    simulator.corrupt_next_answers(100)
    with pytest.raises(ChecksumError, match="damaged"):
        reader.read_identity(today=TODAY, retries=2)


def test_a_card_taken_away_mid_read_asks_the_citizen_to_place_it_again(
    reader: IdCardReader, simulator: IdCardSimulator
) -> None:
    simulator.remove_card_during_read()
    with pytest.raises(CardRemoved, match="place it on the reader"):
        reader.read_identity(today=TODAY)
    assert reader.read_identity(today=TODAY) is None  # and the card is gone
    simulator.insert_card(PERSON)
    assert reader.read_identity(today=TODAY) == PERSON


def test_an_answer_cut_off_mid_frame_times_out_then_the_reader_recovers(
    reader: IdCardReader, simulator: IdCardSimulator
) -> None:
    simulator.cut_next_read()
    started = time.monotonic()
    with pytest.raises(ReaderTimeout, match="middle of an answer"):
        reader.read_identity(today=TODAY)
    assert time.monotonic() - started < 2
    assert reader.read_identity(today=TODAY) == PERSON


def test_an_unplugged_reader_is_reported_as_gone(reader: IdCardReader, simulator: IdCardSimulator) -> None:
    assert reader.read_identity(today=TODAY) == PERSON
    simulator.unplug()
    with pytest.raises(ReaderDisconnected, match="check its cable"):
        reader.read_identity(today=TODAY)
    with pytest.raises(ReaderNotFound, match="plug it in"):  # the port itself is gone now
        reader.read_identity(today=TODAY)
    assert reader.health().state is HealthState.MISSING


def test_a_port_that_does_not_exist_is_named_with_the_fix() -> None:
    with pytest.raises(ReaderNotFound, match=r"/dev/ttyNOPE.*kiosk\.toml"):
        IdCardReader("/dev/ttyNOPE").open()
    health = IdCardReader("/dev/ttyNOPE").health()
    assert health.state is HealthState.MISSING and "/dev/ttyNOPE" in health.fix


def test_health_is_connected_when_the_security_module_answers(reader: IdCardReader) -> None:
    health = reader.health()
    assert health.state is HealthState.CONNECTED and health.ok


def test_a_silent_device_is_degraded_with_a_hint_about_the_port() -> None:
    import os
    import tty

    master, slave = os.openpty()  # a serial device that never answers
    tty.setraw(slave)
    try:
        health = IdCardReader(os.ttyname(slave), timeout=0.2).health()
    finally:
        os.close(master)
        os.close(slave)
    assert health.state is HealthState.DEGRADED and "baud rate" in health.fix


def test_identity_equality_ignores_nothing_but_repr() -> None:
    other = Identity(**{f.name: getattr(PERSON, f.name) for f in dataclasses.fields(Identity)})
    assert other == PERSON
