"""Logs never hold personal data: a whole submission and sync, logged at DEBUG, then grep."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.central_process import central_json, running_central, serve_log_path
from tests.support.cli import run_cli

SERVICE = "residence-permit"


def example_identity() -> dict[str, str]:
    """The example applicant's personal values, as the example answers hold them."""
    done = run_cli("forms", "example", SERVICE)
    answers = json.loads(done.stdout)
    values = {key: answers[key] for key in ("name", "id_number", "mobile", "household_address")}
    values["detail address"] = answers["current_address"]["detail"]
    return values


@pytest.mark.slow
def test_submission_and_sync_leave_no_name_or_id_number_in_any_log(tmp_path: Path, data_dir: Path) -> None:
    identity = example_identity()
    assert identity["name"] == "张三" and len(identity["id_number"]) == 18
    central_dir = tmp_path / "central"
    with running_central(central_dir) as url:
        # DEBUG: the most a technician could ever turn on.
        (data_dir / "kiosk.toml").write_text(f'[central]\nurl = "{url}"\n[logging]\nlevel = "DEBUG"\n', "utf-8")
        code = central_json(central_dir, "enroll-code", "create", "--site", "SZ01")["code"]
        steps = [
            ("enroll", "--code", code),
            ("submit", "--service", SERVICE, "--example", "--json"),
            ("sync", "--once", "--now"),
            ("queue", "list"),  # shows staff the masked name on screen: fine, but not in the log
            ("doctor",),
        ]
        for step in steps:
            done = run_cli(*step, data_dir=data_dir)
            assert done.returncode in (0, 1), f"{step}: {done.stderr}"
        receipt = json.loads(run_cli("queue", "list", "--json", data_dir=data_dir).stdout)[0]["receipt_no"]
        assert run_cli("receipt", receipt, "--out", str(tmp_path / "r.pdf"), data_dir=data_dir).returncode == 0
        synced = central_json(central_dir, "submissions", "list")
        assert [s["receipt_no"] for s in synced] == [receipt]  # the journey really happened

    logs = sorted(p for p in data_dir.rglob("*") if p.is_file() and (".log" in p.name))
    logs += [serve_log_path(central_dir), *sorted((central_dir / "logs").glob("*.log*"))]
    assert any(p.stat().st_size > 0 for p in logs) and (data_dir / "logs" / "kiosk.log").is_file()
    for path in logs:
        text = path.read_text("utf-8", errors="replace")
        for what, value in identity.items():
            assert value not in text, f"{path.name} holds the applicant's {what}"
        assert identity["id_number"][:6] + identity["id_number"][-4:] not in text  # nor obvious pieces of it
