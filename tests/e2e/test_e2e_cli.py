"""The technician's path, with the real commands: enrol, submit, sync, see it on central.

Every step is a real ``kiosk`` / ``kiosk-central`` process against a real platform on
127.0.0.1, exactly as the issue's "done when" describes it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from forms import Catalog, validate_answers
from forms.payload import payload_schema
from sync.store import database_path, open_store
from tests.e2e.conftest import Central, Terminal, parse_json_output
from tests.support.cli import REPO, run_cli
from tests.support.faultproxy import FaultProxy, Mode

pytestmark = pytest.mark.slow


def kiosk(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    done = run_cli(*args, data_dir=data_dir, timeout=120)
    return done


def ok_json(done: subprocess.CompletedProcess[str]) -> dict:
    assert done.returncode == 0, f"exit {done.returncode}: {done.stderr}"
    assert "Traceback" not in done.stderr
    return parse_json_output(done.stdout)


def test_enrol_submit_sync_and_status_round_trip(
    tmp_path: Path, central: Central, bundled_catalog: Catalog
) -> None:
    terminal = tmp_path / "terminal"
    enrolled = ok_json(kiosk(terminal, "enroll", "--central", central.url,
                             "--code", central.new_code("SZ01"), "--json"))
    assert enrolled["site_code"] == "SZ01" and "token" not in enrolled

    submitted = ok_json(kiosk(terminal, "submit", "--service", "residence-permit",
                              "--example", "--json"))
    receipt_no = submitted["receipt_no"]

    synced = ok_json(kiosk(terminal, "sync", "--once", "--json"))
    assert synced["pushed"] == 1 and synced["pending"] == 0 and synced["dead"] == 0
    assert synced["catalog"] == "updated"

    listed = {s["receipt_no"]: s for s in central.submissions()}
    assert receipt_no in listed
    record = listed[receipt_no]
    assert record["submission_id"] == submitted["submission_id"]
    assert record["service_id"] == "residence-permit" and record["case_no"]

    # The platform opened the sealed payload; the answers fit the service's schema.
    shown = central.show(receipt_no)
    answers = shown["answers"]
    definition = bundled_catalog.get("residence-permit")
    jsonschema.validate(answers, payload_schema(definition))
    assert validate_answers(definition, answers) == []

    # A status set on the platform reaches the terminal's status cache.
    central.set_status(record["case_no"], "in_review", note="material complete")
    synced = ok_json(kiosk(terminal, "sync", "--once", "--json"))
    assert synced["status_changes"] >= 1 and synced["catalog"] == "unchanged"
    with open_store(database_path(terminal)) as store:
        status = store.case_status(receipt_no)
        entry = store.find(receipt_no)
    assert status is not None and status.status == "in_review"
    assert status.note == "material complete" and status.case_no == record["case_no"]
    assert entry.state == "accepted" and entry.case_no == record["case_no"]

    shown_on_terminal = ok_json(kiosk(terminal, "queue", "show", receipt_no, "--json"))
    assert shown_on_terminal["case_no"] == record["case_no"]


def test_sync_before_enrolment_says_to_enrol(tmp_path: Path) -> None:
    done = kiosk(tmp_path / "fresh", "sync", "--once", "--json")
    assert done.returncode == 2
    assert "kiosk enroll" in done.stderr and "Traceback" not in done.stderr


def test_used_code_and_second_enrolment_are_refused_clearly(
    tmp_path: Path, central: Central
) -> None:
    code = central.new_code()
    ok_json(kiosk(tmp_path / "a", "enroll", "--central", central.url, "--code", code, "--json"))
    done = kiosk(tmp_path / "b", "enroll", "--central", central.url, "--code", code)
    assert done.returncode == 1
    assert "already used" in done.stderr and "Traceback" not in done.stderr
    again = kiosk(tmp_path / "a", "enroll", "--central", central.url, "--code", code)
    assert again.returncode == 1 and "--force" in again.stderr


def test_plain_http_to_a_remote_host_is_refused(tmp_path: Path) -> None:
    done = kiosk(tmp_path / "t", "enroll", "--central", "http://central.example.gov.cn",
                 "--code", "ABCDE-FGHIJ")
    assert done.returncode == 2
    assert "https" in done.stderr and "Traceback" not in done.stderr


def test_two_sync_commands_at_once_send_each_item_once(
    proxy: FaultProxy, terminal: Terminal
) -> None:
    for _ in range(2):
        terminal.submit()
    proxy.slow_seconds = 1.5
    proxy.set_mode(Mode.SLOW, path_prefix="/v1/submissions")
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "kiosk.cli", "--data-dir", str(terminal.data_dir), "sync", "--once",
             "--json", "--batch-size", "1"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
        )
        for _ in range(2)
    ]
    try:
        outputs = [p.communicate(timeout=120) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    reports = [parse_json_output(out) for out, _ in outputs]
    codes = sorted(p.returncode for p in procs)
    pushed = sum(r["pushed"] for r in reports)
    # Either the second found the first busy (exit 3), or it started after the first
    # finished and found nothing left: never both sending.
    assert codes in ([0, 0], [0, 3])
    assert pushed == 2 and sum(r["duplicates"] for r in reports) == 0
    assert proxy.count(path_prefix="/v1/submissions") == 2
