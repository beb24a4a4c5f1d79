"""``kiosk scan`` as a technician uses it: both decoders, JSON, clear errors, no traceback."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from devices.scan import BarcodeFormat
from sync.receipt import ReceiptNumber
from tests.devices.codes import code_image, qr_image, rotated
from tests.support.cli import REPO

# Runs the real CLI in a subprocess; registers the scan command if kiosk/cli.py does not yet.
_RUNNER = (
    "import sys, kiosk.cli as cli\n"
    "if 'scan' not in cli.COMMAND_MODULES: cli.COMMAND_MODULES = (*cli.COMMAND_MODULES, 'scan')\n"
    "sys.exit(cli.main(sys.argv[1:]))\n"
)
RECEIPT = str(ReceiptNumber.issue("SZ01", "K7M", dt.date(2025, 6, 1), 42))


def kiosk_scan(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _RUNNER, "--data-dir", str(data_dir), "scan", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env={**os.environ},
        check=False,
    )


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("images")
    files = {
        "chinese.png": qr_image("社会保障卡补换 通办"),
        "chinese-eci.png": rotated(qr_image("居住证申领", eci=True), 30),
        "receipt.jpg": qr_image(RECEIPT).convert("RGB"),
        "datamatrix.png": code_image(BarcodeFormat.DATA_MATRIX, "办事 DM"),
        "ean13.bmp": code_image(BarcodeFormat.EAN13, "9787111213826"),
        "blank.png": qr_image("x").resize((200, 200)).point(lambda _: 255),
    }
    paths = {}
    for name, image in files.items():
        paths[name] = folder / name
        image.save(paths[name])
    (folder / "not-an-image.png").write_text("hello")
    paths["not-an-image.png"] = folder / "not-an-image.png"
    return paths


@pytest.mark.parametrize("decoder", ["zxing", "zbar"])
def test_chinese_utf8_qr_codes_read_correctly_with_both_decoders(
    images: dict[str, Path], data_dir: Path, decoder: str
) -> None:
    names = ["chinese.png", "chinese-eci.png", "receipt.jpg"]
    result = kiosk_scan(*(str(images[n]) for n in names), "--decoder", decoder, "--json", data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [(r["text"], r["kind"], r["format"]) for r in rows] == [
        ("社会保障卡补换 通办", "unknown", "qr"),
        ("居住证申领", "unknown", "qr"),
        (RECEIPT, "receipt", "qr"),
    ]
    assert [r["file"] for r in rows] == [str(images[n]) for n in names]


def test_plain_output_names_file_format_kind_and_text(images: dict[str, Path], data_dir: Path) -> None:
    result = kiosk_scan(str(images["receipt.jpg"]), str(images["datamatrix.png"]), data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"{images['receipt.jpg']}: qr receipt: {RECEIPT}",
        f"{images['datamatrix.png']}: datamatrix unknown: 办事 DM",
    ]


def test_zbar_is_honest_about_datamatrix(images: dict[str, Path], data_dir: Path) -> None:
    result = kiosk_scan(str(images["datamatrix.png"]), str(images["ean13.bmp"]), "--decoder", "zbar", data_dir=data_dir)
    assert result.returncode == 1
    assert result.stdout.strip() == f"{images['ean13.bmp']}: ean13 unknown: 9787111213826"
    assert result.stderr.strip() == f"kiosk: {images['datamatrix.png']}: no code found"


def test_unreadable_files_and_missing_codes_are_clear_and_never_a_traceback(
    images: dict[str, Path], data_dir: Path, tmp_path: Path
) -> None:
    missing = tmp_path / "missing.png"
    args = [str(missing), str(images["not-an-image.png"]), str(images["blank.png"]), str(tmp_path)]
    result = kiosk_scan(*args, data_dir=data_dir)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        f"kiosk: {missing}: no such file",
        f"kiosk: {images['not-an-image.png']}: not an image file this program can read",
        f"kiosk: {images['blank.png']}: no code found",
        f"kiosk: {tmp_path}: is a folder, not an image",
    ]
    as_json = kiosk_scan(*args[:1], str(images["chinese.png"]), "--json", data_dir=data_dir)
    assert as_json.returncode == 1
    assert json.loads(as_json.stdout) == [
        {"file": str(missing), "error": "no such file"},
        {"file": str(images["chinese.png"]), "format": "qr", "text": "社会保障卡补换 通办", "kind": "unknown"},
    ]
