"""Serial scanners on a real pty: lines become classified scans; unplugging is reported."""

from __future__ import annotations

import queue
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.health import HealthState
from devices.payload import PayloadKind
from devices.scan import ScanResult, ScanSource
from devices.serial_scanner import LineSplitter, SerialScanner, decode_line
from tests.support.serial_pty import Pty


@pytest.fixture
def pty() -> Iterator[Pty]:
    device = Pty()
    yield device
    device.close()


def test_lines_from_the_scanner_arrive_as_classified_scans(pty: Pty) -> None:
    scans: queue.Queue[ScanResult] = queue.Queue()
    with SerialScanner(pty.port, scans.put) as scanner:
        pty.send(b"11010519491231002X\r\n")
        pty.send("社会保障卡\r".encode())
        pty.send("居住证".encode("gb18030") + b"\n")
        first, second, third = (scans.get(timeout=2) for _ in range(3))
        assert scanner.health().state is HealthState.CONNECTED
    assert first.kind is PayloadKind.ID_NUMBER and first.source is ScanSource.SERIAL
    assert (second.text, third.text) == ("社会保障卡", "居住证")
    assert third.raw_bytes == "居住证".encode("gb18030")


def test_an_unplugged_scanner_is_reported_missing(pty: Pty) -> None:
    scanner = SerialScanner(pty.port, lambda r: None)
    scanner.start()
    try:
        pty.close()
        if scanner._thread is not None:
            scanner._thread.join(2)
        health = scanner.health()
        assert health.state is HealthState.MISSING and "went away" in health.reason
    finally:
        scanner.stop()


def test_a_missing_port_is_named_with_the_fix() -> None:
    health = SerialScanner("/dev/ttyNOPE", lambda r: None).health()
    assert health.state is HealthState.MISSING and "/dev/ttyNOPE" in health.reason and "kiosk.toml" in health.fix


def test_overlong_lines_are_dropped_whole() -> None:
    splitter = LineSplitter(max_length=10)
    assert splitter.feed(b"A" * 25 + b"\r\nOK\r\n") == [b"OK"]
    assert splitter.dropped == 1


@given(st.lists(st.binary(max_size=50), max_size=20))
def test_the_splitter_keeps_every_line_whatever_the_chunking(chunks: list[bytes]) -> None:
    data = b"".join(chunks)
    splitter = LineSplitter()
    lines = [line for chunk in chunks for line in splitter.feed(chunk)]
    complete = data[: max(data.rfind(b"\r"), data.rfind(b"\n")) + 1]
    expected = [part for part in complete.replace(b"\r", b"\n").split(b"\n") if part]
    assert lines == expected
    for line in lines:
        decode_line(line)  # never raises
