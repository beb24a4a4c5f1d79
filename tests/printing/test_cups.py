"""The system-printer backend hands the PDF to CUPS ``lp``.

CUPS is not running on the test machines, so a fake ``lp`` (and ``lpstat``) on PATH records
its arguments and standard input, and answers like the real one.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from printing import A4, ROLL_80MM, PrintError, PrinterState
from printing.cups import CupsPrinter, parse_lpstat
from printing.receipt import layout_receipt
from tests.printing.samples import make_receipt

FAKE_LP = """#!/bin/sh
printf '%s\\n' "$@" > "$FAKE_CUPS_DIR/lp.args"
cat > "$FAKE_CUPS_DIR/lp.stdin"
if [ -f "$FAKE_CUPS_DIR/refuse" ]; then echo "lp: The printer or class does not exist." >&2; exit 1; fi
echo "request id is receipts-42 (0 file(s))"
"""
FAKE_LPSTAT = """#!/bin/sh
case "$*" in
  "-d") echo "system default destination: receipts" ;;
  *) cat "$FAKE_CUPS_DIR/lpstat.out" ;;
esac
"""


@pytest.fixture
def fake_cups(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, script in (("lp", FAKE_LP), ("lpstat", FAKE_LPSTAT)):
        path = bin_dir / name
        path.write_text(script)
        path.chmod(path.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_CUPS_DIR", str(tmp_path))
    return tmp_path


def test_receipt_is_piped_to_lp_with_queue_title_and_roll_media(fake_cups: Path) -> None:
    printer = CupsPrinter("receipts", paper=ROLL_80MM)
    request = printer.print_document(layout_receipt(make_receipt(), ROLL_80MM), job_name="receipt-SZ01")
    assert request == "receipts-42"
    args = (fake_cups / "lp.args").read_text().split("\n")
    assert args[:4] == ["-d", "receipts", "-t", "receipt-SZ01"]
    assert args[4] == "-o" and args[5].startswith("media=Custom.80x") and args[5].endswith("mm")
    assert (fake_cups / "lp.stdin").read_bytes().startswith(b"%PDF")


def test_a4_asks_for_a4_media_on_the_default_queue(fake_cups: Path) -> None:
    CupsPrinter(None, paper=A4).print_document(layout_receipt(make_receipt(), A4), job_name="r")
    args = (fake_cups / "lp.args").read_text().split("\n")
    assert "-d" not in args and "media=A4" in args


def test_lp_refusing_the_job_is_a_print_error_with_its_reason(fake_cups: Path) -> None:
    (fake_cups / "refuse").touch()
    with pytest.raises(PrintError, match="does not exist"):
        CupsPrinter("gone", paper=ROLL_80MM).print_document(layout_receipt(make_receipt(), ROLL_80MM), job_name="r")


def test_missing_lp_says_what_to_install(tmp_path: Path) -> None:
    printer = CupsPrinter("q", paper=ROLL_80MM, lp_command=str(tmp_path / "no-lp"))
    with pytest.raises(PrintError, match="cups-client"):
        printer.print_document(layout_receipt(make_receipt(), ROLL_80MM), job_name="r")


@pytest.mark.parametrize(
    ("lpstat", "state"),
    [
        ("printer receipts is idle.  enabled since Mon 23 Nov 2026\n\tAlerts: none\n", PrinterState.ONLINE),
        ("printer receipts disabled since Mon 23 Nov 2026 -\n\tPaused\n", PrinterState.OFFLINE),
        ("printer receipts is idle.  enabled since ...\n\tAlerts: media-empty-error\n", PrinterState.PAPER_OUT),
        ("printer receipts is idle.  enabled since ...\n\tAlerts: media-low-report\n", PrinterState.PAPER_NEAR_END),
    ],
)
def test_lpstat_is_read_as_a_device_state(fake_cups: Path, lpstat: str, state: PrinterState) -> None:
    (fake_cups / "lpstat.out").write_text(lpstat)
    assert CupsPrinter(None, paper=ROLL_80MM).status().state is state
    assert parse_lpstat("receipts", lpstat).state is state
