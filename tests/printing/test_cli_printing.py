"""``kiosk receipt`` and ``kiosk printers``, run as a technician runs them."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

import kiosk.cli
from sync.store import Store
from tests.printing.samples import FULL_ID, pdf_text

MODULES = ("receipt", "printers")
Kiosk = Callable[..., tuple[int, str, str]]


@pytest.fixture
def kiosk_cmd(data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Kiosk:
    """Run ``kiosk --data-dir DATA ARGS...`` in process; returns (exit code, stdout, stderr)."""
    missing = tuple(m for m in MODULES if m not in kiosk.cli.COMMAND_MODULES)
    monkeypatch.setattr(kiosk.cli, "COMMAND_MODULES", kiosk.cli.COMMAND_MODULES + missing)

    def run(*args: str) -> tuple[int, str, str]:
        code = kiosk.cli.main(["--data-dir", str(data_dir), *args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def submit(store: Store) -> str:
    return store.enqueue(
        "residence-permit", "1.0.0", {"name": "张小三", "id_number": FULL_ID},
        service_name={"zh_CN": "居住证申领", "en": "Residence Permit Application"},
    ).receipt_no


def test_receipt_out_writes_a_pdf_with_the_number_and_chinese_service_name(
    kiosk_cmd: Kiosk, store: Store, tmp_path: Path
) -> None:
    receipt_no = submit(store)
    out = tmp_path / "r.pdf"
    code, stdout, _ = kiosk_cmd("receipt", receipt_no.lower().replace("-", ""), "--out", str(out))
    assert code == 0, stdout
    text = pdf_text(out)
    assert receipt_no in "".join(text.split())
    assert "居住证申领" in text and "110105********002X" in text and FULL_ID not in "".join(text.split())
    assert "市民服务中心" in text  # the hall's name from the config's default


def test_receipt_without_out_reprints_on_the_configured_pdf_printer(
    kiosk_cmd: Kiosk, store: Store, data_dir: Path
) -> None:
    receipt_no = submit(store)
    code, stdout, _ = kiosk_cmd("receipt", receipt_no, "--paper", "58mm")
    assert code == 0
    printed = Path(stdout.strip().split(": ", 1)[1])
    assert printed.is_relative_to(data_dir / "receipts") and printed.is_file()
    row = store.db.execute("SELECT state, requested_by, paper FROM print_jobs").fetchone()
    assert tuple(row) == ("printed", "cli", "58mm")
    # never printed here before: built from the summary, and audited as a reprint like any other
    audit = store.db.execute("SELECT actor, detail FROM audit_log WHERE action = 'reprint'").fetchall()
    assert len(audit) == 1 and audit[0][0] == "cli" and "built from the summary" in audit[0][1]


def test_unknown_receipt_number_is_one_clear_line(kiosk_cmd: Kiosk, store: Store) -> None:
    code, _, err = kiosk_cmd("receipt", "SZ01-K7M-261123-00099-X", "--out", "x.pdf")
    assert code == 1 and "no submission with receipt number" in err and "Traceback" not in err


def test_a_failing_printer_keeps_the_job_and_exits_1(
    kiosk_cmd: Kiosk, store: Store, data_dir: Path
) -> None:
    receipt_no = submit(store)
    blocker = data_dir / "blocker"
    blocker.write_text("")
    (data_dir / "kiosk.toml").write_text(f'[printing]\npdf_folder = "{blocker / "inside"}"\n')
    code, _, err = kiosk_cmd("receipt", receipt_no)
    assert code == 1 and "was not printed" in err and "kept and retried" in err
    row = store.db.execute("SELECT state, last_error FROM print_jobs").fetchone()
    assert row[0] == "failed" and "cannot write" in row[1]


def test_printers_lists_the_configured_printer_and_a_pdf_fallback(kiosk_cmd: Kiosk, data_dir: Path) -> None:
    (data_dir / "kiosk.toml").write_text('[printing]\nbackend = "escpos"\nescpos_connection = "network:127.0.0.1:9"\n'
                                          'timeout_seconds = 1\n')
    code, stdout, _ = kiosk_cmd("printers", "--json")
    assert code == 0
    rows = {row["name"]: row for row in json.loads(stdout)}
    assert rows["default"]["backend"] == "escpos" and rows["default"]["target"] == "network:127.0.0.1:9"
    assert rows["default"]["status"]["state"] == "offline"
    assert rows["pdf"]["status"]["state"] == "online"


def test_a_bad_escpos_connection_is_a_config_error_naming_the_key(kiosk_cmd: Kiosk, data_dir: Path) -> None:
    (data_dir / "kiosk.toml").write_text('[printing]\nescpos_connection = "lpt1"\n')
    code, _, err = kiosk_cmd("printers")
    assert code == 2 and "[printing] escpos_connection" in err
