"""ESC/POS thermal printers get the receipt as one raster image of the head's width, then a cut."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
import zxingcpp
from escpos.printer import Dummy

from printing import A4, ROLL_58MM, ROLL_80MM, Paper, PrintError, PrinterState
from printing.escpos_connection import EscposConnection
from printing.escpos_printer import EscposPrinter
from printing.receipt import layout_receipt
from printing.render_raster import render_raster
from printing.ticket import layout_ticket
from tests.printing.samples import RECEIPT_NO, make_receipt, make_ticket

GS_V_0 = b"\x1dv0"
FULL_CUT = b"\x1dV\x00"


def raster_blocks(data: bytes) -> list[tuple[int, int]]:
    """(width in bytes, rows) of every ``GS v 0`` raster command in an ESC/POS stream."""
    blocks = []
    at = data.find(GS_V_0)
    while at >= 0:
        width = data[at + 4] | data[at + 5] << 8
        rows = data[at + 6] | data[at + 7] << 8
        blocks.append((width, rows))
        at = data.find(GS_V_0, at + 8 + width * rows)
    return blocks


def dummy_printer(paper: Paper) -> tuple[EscposPrinter, list[Dummy]]:
    made: list[Dummy] = []

    def factory(connection: EscposConnection, timeout: float) -> Dummy:
        made.append(Dummy())
        return made[-1]

    return EscposPrinter(EscposConnection.parse("usb:0x0416:0x5011"), paper=paper, device_factory=factory), made


@pytest.mark.parametrize(("paper", "dots"), [(ROLL_80MM, 576), (ROLL_58MM, 384)], ids=["80mm", "58mm"])
def test_receipt_goes_out_as_gs_v_0_raster_of_the_head_width_then_a_cut(paper: Paper, dots: int) -> None:
    printer, made = dummy_printer(paper)
    doc = layout_receipt(make_receipt(is_test=True), paper)
    image = render_raster(doc)
    assert image.mode == "1" and image.width == dots

    printer.print_document(doc, job_name="receipt")

    out = made[-1].output
    assert out.startswith(b"\x10\x04\x01")  # asked for its status first (Dummy cannot answer)
    assert b"\x1b\x40" in out  # ESC @ before the image
    blocks = raster_blocks(out)
    assert blocks and all(width == dots // 8 for width, _ in blocks)
    assert sum(rows for _, rows in blocks) == image.height
    assert out.rstrip(b"\n").endswith(FULL_CUT) and out.index(FULL_CUT) > out.rindex(GS_V_0)


def test_the_raster_qr_code_decodes_to_the_receipt_number() -> None:
    image = render_raster(layout_receipt(make_receipt(), ROLL_58MM)).convert("L")
    results = zxingcpp.read_barcodes(image)
    assert [r.text for r in results if r.format == zxingcpp.BarcodeFormat.QRCode] == [RECEIPT_NO]


def test_the_ticket_qr_code_decodes_to_the_ticket_number() -> None:
    image = render_raster(layout_ticket(make_ticket(), ROLL_80MM)).convert("L")
    assert [r.text for r in zxingcpp.read_barcodes(image)] == ["A023"]


def test_a4_cannot_go_to_a_thermal_printer() -> None:
    with pytest.raises(PrintError, match="80mm or 58mm"):
        EscposPrinter(EscposConnection.parse("network:127.0.0.1"), paper=A4)


def test_a_printer_that_cannot_answer_has_unknown_status() -> None:
    printer, _ = dummy_printer(ROLL_80MM)
    status = printer.status()
    assert status.state is PrinterState.UNKNOWN and status.health == "unknown" and status.can_print


class FakeNetworkPrinter:
    """A TCP printer on 127.0.0.1 that answers DLE EOT status queries and records what it receives."""

    def __init__(self, paper_byte: int, online_byte: int = 0x12) -> None:
        self.paper_byte = paper_byte
        self.online_byte = online_byte
        self.received = bytearray()
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            with conn:
                while chunk := conn.recv(65536):
                    self.received += chunk
                    if chunk.endswith(b"\x10\x04\x01"):
                        conn.sendall(bytes([self.online_byte]))
                    elif chunk.endswith(b"\x10\x04\x04"):
                        conn.sendall(bytes([self.paper_byte]))

    def close(self) -> None:
        self.server.close()


@pytest.fixture
def network_printer(request: pytest.FixtureRequest) -> Iterator[FakeNetworkPrinter]:
    fake = FakeNetworkPrinter(request.param)
    yield fake
    fake.close()


@pytest.mark.parametrize("network_printer", [0x12], indirect=True)
def test_network_printer_reports_online_and_prints(network_printer: FakeNetworkPrinter) -> None:
    printer = EscposPrinter(EscposConnection.parse(f"network:127.0.0.1:{network_printer.port}"), paper=ROLL_80MM,
                            timeout=3)
    assert printer.status().state is PrinterState.ONLINE
    printer.print_document(layout_receipt(make_receipt(), ROLL_80MM), job_name="receipt")
    for _ in range(100):
        if FULL_CUT in network_printer.received:
            break
        threading.Event().wait(0.02)
    assert raster_blocks(bytes(network_printer.received))[0][0] == 72
    assert FULL_CUT in network_printer.received


@pytest.mark.parametrize("network_printer", [0x12 | 0x60], indirect=True)
def test_paper_out_is_a_device_state_and_stops_the_job(network_printer: FakeNetworkPrinter) -> None:
    printer = EscposPrinter(EscposConnection.parse(f"network:127.0.0.1:{network_printer.port}"), paper=ROLL_80MM,
                            timeout=3)
    status = printer.status()
    assert status.state is PrinterState.PAPER_OUT and status.health == "error"
    with pytest.raises(PrintError, match="out of paper"):
        printer.print_document(layout_receipt(make_receipt(), ROLL_80MM), job_name="receipt")
    assert GS_V_0 not in network_printer.received


@pytest.mark.parametrize("network_printer", [0x12 | 0x0C], indirect=True)
def test_paper_near_end_is_a_warning(network_printer: FakeNetworkPrinter) -> None:
    printer = EscposPrinter(EscposConnection.parse(f"network:127.0.0.1:{network_printer.port}"), paper=ROLL_58MM,
                            timeout=3)
    status = printer.status()
    assert status.state is PrinterState.PAPER_NEAR_END and status.health == "warning"


def test_an_unreachable_network_printer_is_offline() -> None:
    with socket.create_server(("127.0.0.1", 0)) as s:
        port = s.getsockname()[1]
    printer = EscposPrinter(EscposConnection.parse(f"network:127.0.0.1:{port}"), paper=ROLL_80MM, timeout=1)
    assert printer.status().state is PrinterState.OFFLINE
    with pytest.raises(PrintError, match="did not take the job"):
        printer.print_document(layout_receipt(make_receipt(), ROLL_80MM), job_name="receipt")
