"""A stolen disk reveals no applicant: the database files hold no name, ID or phone bytes."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from sync.store import Store
from sync.submission import Attachment

NAME = "诸葛孔明亮"
ID_NUMBER = "51010819810723461X"
MOBILE = "13912345678"
ADDRESS = "四川省成都市武侯区武侯祠大街231号"
FILE_NAME = "诸葛孔明亮的租赁合同.jpg"


def _needles() -> dict[str, bytes]:
    needles = {}
    for text in (NAME, ADDRESS, FILE_NAME):
        for encoding in ("utf-8", "gbk", "gb18030", "utf-16-le", "utf-16-be"):
            needles[f"{text} ({encoding})"] = text.encode(encoding)
    for text in (ID_NUMBER, MOBILE):
        for encoding in ("ascii", "utf-16-le", "utf-16-be"):
            needles[f"{text} ({encoding})"] = text.encode(encoding)
    return needles


def _database_files(data_dir: Path) -> list[Path]:
    return [p for p in sorted(data_dir.iterdir()) if p.name.startswith("tongban.db")]


def _leaks(files: list[Path]) -> list[str]:
    found = []
    for path in files:
        content = path.read_bytes()
        found += [f"{label} in {path.name}" for label, needle in _needles().items() if needle in content]
    return found


def test_database_and_wal_hold_no_personal_data(
    enrolled: Store, data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for n in range(20):
        scan = Attachment(f"scan {n} of {NAME} {ID_NUMBER}".encode(), "image/jpeg", FILE_NAME)
        answers = {
            "name": NAME,
            "id_number": ID_NUMBER,
            "mobile": MOBILE,
            "household_address": ADDRESS,
            "residence_proof": [scan.ref()],
        }
        enrolled.enqueue("residence-permit", "1.0.0", answers, attachments=[scan])
    # Staff still recognise the submission from the masked summary.
    [entry, *_] = enrolled.list_queue()
    assert entry.summary.applicant_name == "诸***亮"
    assert entry.summary.id_number == "510108********461X"
    assert entry.summary.mobile == "139****5678"

    files = _database_files(data_dir)
    assert {p.name for p in files} >= {"tongban.db", "tongban.db-wal", "tongban.db-shm"}
    assert (data_dir / "tongban.db-wal").stat().st_size > 0, "the WAL should hold the commits"
    assert _leaks(files) == []

    enrolled.close()  # checkpoint: the pages move from the WAL into the main file
    assert _leaks(_database_files(data_dir)) == []
    assert NAME not in caplog.text and ID_NUMBER not in caplog.text and MOBILE not in caplog.text


def test_the_needles_would_be_found_if_they_were_there(data_dir: Path) -> None:
    """The search itself works: a clear value written to a file is detected."""
    probe = data_dir / "tongban.db-probe"
    probe.write_bytes(b"\x00" + NAME.encode("gbk") + b"\x00")
    assert f"{NAME} (gbk) in tongban.db-probe" in _leaks([probe])
