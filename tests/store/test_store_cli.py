"""``kiosk submit`` and ``kiosk queue`` as a technician uses them."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest

import kiosk.cli
from forms import example_answers, load_catalog
from kiosk.commands.submit import placeholder_file
from sync.receipt import ReceiptNumber
from sync.sealing import open_sealed
from sync.store import Store

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def kiosk_cmd(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Run:
    """Run ``kiosk --data-dir DATA ARGS...`` in-process; returns (exit status, stdout, stderr)."""
    modules = tuple(kiosk.cli.COMMAND_MODULES)
    monkeypatch.setattr(
        kiosk.cli, "COMMAND_MODULES", modules + tuple(m for m in ("submit", "queue") if m not in modules)
    )

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = kiosk.cli.main(["--data-dir", str(data_dir), *args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_submit_on_an_unenrolled_terminal_says_how_to_enrol(kiosk_cmd: Run, store: Store) -> None:
    code, _, err = kiosk_cmd("submit", "--service", "residence-permit", "--example")
    assert code == 2
    assert "not enrolled" in err and "kiosk enroll --central URL --code CODE" in err
    assert "Traceback" not in err


def test_submit_example_prints_the_receipt_and_queues_a_test_submission(
    kiosk_cmd: Run, enrolled: Store, keypair: tuple[bytes, bytes]
) -> None:
    code, out, err = kiosk_cmd("submit", "--service", "residence-permit", "--example", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert set(result) >= {"submission_id", "receipt_no", "service_id"}
    assert result["service_id"] == "residence-permit"
    ReceiptNumber.parse(result["receipt_no"])

    code, out, _ = kiosk_cmd("submit", "--service", "residence-permit", "--example")
    assert code == 0
    assert ReceiptNumber.validate(out.strip()) == out.strip()

    # The placeholders are real files whose hashes are in the sealed answers.
    [item, _] = enrolled.claim_batch(10)
    assert item.is_test and item.submission_id == result["submission_id"]
    answers = json.loads(open_sealed(keypair[0], item.sealed_payload, context=item.submission_id.encode()))["answers"]
    assert answers["signature"]["sha256"] in item.attachment_sha256s
    assert answers["residence_proof"][0]["sha256"] in item.attachment_sha256s
    for sha256 in item.attachment_sha256s:
        content = open_sealed(keypair[0], enrolled.sealed_attachment(sha256), context=sha256.encode())
        assert hashlib.sha256(content).hexdigest() == sha256
        assert b"Tongban example placeholder" in content


def test_invalid_data_exits_1_listing_each_fields_error(
    kiosk_cmd: Run, enrolled: Store, tmp_path: Path
) -> None:
    data = tmp_path / "answers.json"
    data.write_text(json.dumps({"name": "李四", "id_number": "123"}, ensure_ascii=False), "utf-8")
    code, out, err = kiosk_cmd("submit", "--service", "residence-permit", "--data", str(data))
    assert code == 1
    for field_id in ("id_number", "mobile", "residence_proof", "signature"):
        assert f"  {field_id}: " in err
    code, out, _ = kiosk_cmd("submit", "--service", "residence-permit", "--data", str(data), "--json")
    assert code == 1
    codes = {e["field_id"]: e["code"] for e in json.loads(out)["errors"]}
    assert codes["id_number"] == "bad_id_number"
    assert enrolled.counts()["pending"] == 0


def test_submit_data_reads_attachment_files_next_to_the_json(
    kiosk_cmd: Run, enrolled: Store, tmp_path: Path
) -> None:
    from catalog import DEFAULT_CATALOG_DIR

    answers = example_answers(load_catalog(DEFAULT_CATALOG_DIR).get("residence-permit"))
    scan = placeholder_file("image/jpeg", "a real scan")
    (tmp_path / "scan.jpg").write_bytes(scan)
    (tmp_path / "sign.png").write_bytes(placeholder_file("image/png", "a signature"))
    answers["residence_proof"] = [{"path": "scan.jpg", "name": "租赁合同.jpg"}]
    answers["employment_proof"] = [{"path": "scan.jpg"}]
    answers["signature"] = {"path": "sign.png"}
    data = tmp_path / "answers.json"
    data.write_text(json.dumps(answers, ensure_ascii=False), "utf-8")

    code, out, err = kiosk_cmd("submit", "--service", "residence-permit", "--data", str(data), "--json")
    assert code == 0, err
    entry = enrolled.find(json.loads(out)["receipt_no"])
    assert not entry.is_test
    assert hashlib.sha256(scan).hexdigest() in {a.sha256 for a in entry.attachments}


def test_submit_data_with_a_missing_file_names_it(kiosk_cmd: Run, enrolled: Store, tmp_path: Path) -> None:
    data = tmp_path / "answers.json"
    data.write_text(json.dumps({"signature": {"path": "nowhere.png"}}), "utf-8")
    code, _, err = kiosk_cmd("submit", "--service", "residence-permit", "--data", str(data))
    assert code == 1
    assert "nowhere.png" in err


def test_unknown_service_lists_the_known_ones(kiosk_cmd: Run, enrolled: Store) -> None:
    code, _, err = kiosk_cmd("submit", "--service", "no-such-service", "--example")
    assert code == 1
    assert "residence-permit" in err


def test_queue_list_show_and_filters_never_show_personal_or_sealed_data(kiosk_cmd: Run, enrolled: Store) -> None:
    _, out, _ = kiosk_cmd("submit", "--service", "residence-permit", "--example", "--json")
    receipt_no = json.loads(out)["receipt_no"]

    code, out, _ = kiosk_cmd("queue", "list", "--json")
    assert code == 0
    [row] = json.loads(out)
    assert row["receipt_no"] == receipt_no and row["state"] == "pending" and row["is_test"]
    assert json.loads(kiosk_cmd("queue", "list", "--state", "pending", "--json")[1]) != []
    assert json.loads(kiosk_cmd("queue", "list", "--state", "sent", "--json")[1]) == []
    assert json.loads(kiosk_cmd("queue", "list", "--state", "dead", "--json")[1]) == []

    typed = receipt_no.lower().replace("-", "")
    for args in (("queue", "show", typed), ("queue", "show", typed, "--json"), ("queue", "list")):
        code, out, _ = kiosk_cmd(*args)
        assert code == 0
        assert receipt_no in out
        assert "张*" in out
        for secret in ("张三", "11010519491231002X", "13800138000", "sealed_payload", "TBS1"):
            assert secret not in out


def test_queue_show_of_an_unknown_key_is_a_clear_error(kiosk_cmd: Run, enrolled: Store) -> None:
    code, _, err = kiosk_cmd("queue", "show", "SZ01-K7M-261123-99999-0")
    assert code == 1
    assert "no submission" in err and "Traceback" not in err


def test_queue_retry_sends_a_dead_letter_again_and_audits_the_reason(kiosk_cmd: Run, enrolled: Store) -> None:
    _, out, _ = kiosk_cmd("submit", "--service", "residence-permit", "--example", "--json")
    receipt_no = json.loads(out)["receipt_no"]
    [item] = enrolled.claim_batch(1)
    enrolled.mark_dead(item.submission_id, "unknown_form_version: 1.0.0")

    code, out, _ = kiosk_cmd("queue", "list", "--state", "dead")
    assert code == 0 and "unknown_form_version" in out

    code, out, err = kiosk_cmd("queue", "retry", receipt_no, "--reason", "form 1.0.0 published on central")
    assert code == 0, err
    assert enrolled.find(receipt_no).state == "pending"
    retry = [a for a in enrolled.audit_entries(item.submission_id) if a.action == "retry"]
    assert [(a.actor, a.detail) for a in retry] == [("cli", "form 1.0.0 published on central")]

    code, _, err = kiosk_cmd("queue", "retry", receipt_no)
    assert code == 1
    assert "not a dead letter" in err
