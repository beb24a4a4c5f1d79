"""``kiosk doctor``: what a technician sees on a fresh machine, a working kiosk and broken ones."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from kiosk.doctor import Status, refuse_newer_database, run_checks
from kiosk.errors import SetupError
from sync.migrations import LATEST_VERSION, schema_version_of
from sync.store import database_path, open_store
from tests.support.central_process import central_json, running_central
from tests.support.cli import run_cli


def doctor(data_dir: Path, env: dict[str, str] | None = None) -> tuple[int, dict[str, dict[str, Any]]]:
    done = run_cli("doctor", "--json", data_dir=data_dir, env=env)
    assert done.stderr == "" or "Traceback" not in done.stderr, done.stderr
    checks = json.loads(done.stdout)
    assert all(set(c) == {"name", "status", "detail", "fix"} for c in checks)
    return done.returncode, {c["name"]: c for c in checks}


def make_newer(path: Path, version: int) -> None:
    open_store(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO schema_version VALUES (?, 'from the future', '2031-01-01T00:00:00Z')", (version,))


def test_fresh_machine_says_what_is_missing_and_how_to_fix_it(data_dir: Path) -> None:
    code, checks = doctor(data_dir)
    assert code == 1  # not enrolled and no platform: the kiosk cannot work yet
    assert checks["config"]["status"] == "warn" and "kiosk.toml" in checks["config"]["fix"]
    assert checks["data folder"]["status"] == "pass"
    assert checks["database"]["status"] == "warn"
    assert checks["enrolment"]["status"] == "fail" and "kiosk enroll --from-qr" in checks["enrolment"]["fix"]
    assert checks["catalog"]["status"] == "warn" and "kiosk sync --once" in checks["catalog"]["fix"]
    assert checks["ID card reader"]["status"] == "warn" and "[devices] idcard_port" in checks["ID card reader"]["fix"]
    assert checks["central platform"]["status"] == "fail"
    assert {"disk space", "CJK font", "printer (pdf)", "zxing decoder"} <= checks.keys()
    assert all(c["fix"] for c in checks.values() if c["status"] != "pass")
    assert not database_path(data_dir).exists()  # the doctor did not create the database


def test_plain_output_lists_every_check_with_its_fix(data_dir: Path) -> None:
    done = run_cli("doctor", data_dir=data_dir)
    assert done.returncode == 1
    assert "FAIL  enrolment:" in done.stdout and "fix: enrol:" in done.stdout
    assert "checks:" in done.stdout.splitlines()[-1]


def test_broken_config_is_reported_and_the_other_checks_still_run(data_dir: Path) -> None:
    (data_dir / "kiosk.toml").write_text('[central]\nurll = "http://x"\n', encoding="utf-8")
    code, checks = doctor(data_dir)
    assert code == 1
    assert checks["config"]["status"] == "fail"
    assert "[central] urll: unknown key (did you mean url?)" in checks["config"]["detail"]
    assert checks["data folder"]["status"] == "pass" and "disk space" in checks


def test_configured_id_card_reader_that_is_unplugged_fails_naming_the_port(data_dir: Path) -> None:
    (data_dir / "kiosk.toml").write_text('[devices]\nidcard_port = "/dev/ttyNOPE9"\ncamera = true\n',
                                         encoding="utf-8")
    _code, checks = doctor(data_dir)
    reader = checks["ID card reader"]
    assert reader["status"] == "fail" and "/dev/ttyNOPE9" in reader["detail"] + reader["fix"]
    assert "camera" in checks


def test_low_disk_threshold_fails(data_dir: Path) -> None:
    (data_dir / "kiosk.toml").write_text("[doctor]\nmin_free_disk_mb = 1000000\n", encoding="utf-8")
    _code, checks = doctor(data_dir)
    assert checks["disk space"]["status"] == "fail" and "min_free_disk_mb" in checks["disk space"]["fix"]


def test_damaged_database_fails_with_the_file_named(data_dir: Path) -> None:
    database_path(data_dir).write_bytes(b"this is not sqlite" * 100)
    _code, checks = doctor(data_dir)
    assert checks["database"]["status"] == "fail" and str(database_path(data_dir)) in checks["database"]["detail"]


def test_database_from_a_newer_version_is_reported_not_opened(data_dir: Path) -> None:
    path = database_path(data_dir)
    make_newer(path, LATEST_VERSION + 5)
    results = {r.name: r for r in run_checks(data_dir, data_dir / "kiosk.toml")}
    db = results["database"]
    assert db.status is Status.FAIL
    assert f"schema version {LATEST_VERSION + 5}" in db.detail and f"up to {LATEST_VERSION}" in db.detail
    assert "install the Tongban bundle that wrote it" in db.fix


def test_kiosk_refuses_to_start_on_a_newer_database(data_dir: Path) -> None:
    path = database_path(data_dir)
    make_newer(path, LATEST_VERSION + 1)
    with pytest.raises(SetupError) as caught:
        refuse_newer_database(data_dir)
    message = str(caught.value)
    assert str(path) in message and f"schema version {LATEST_VERSION + 1}" in message
    assert f"up to {LATEST_VERSION}" in message and "restore" in message

    started = run_cli("run", "--windowed", data_dir=data_dir, env={"QT_QPA_PLATFORM": "offscreen"}, timeout=60)
    assert started.returncode == 2
    assert str(path) in started.stderr and "newer Tongban" in started.stderr and "Traceback" not in started.stderr
    listed = run_cli("queue", "list", data_dir=data_dir)
    assert listed.returncode == 2 and "newer Tongban" in listed.stderr
    assert schema_version_of(path) == LATEST_VERSION + 1  # refused, not migrated or rewritten


def test_older_database_is_still_upgraded_on_open(data_dir: Path) -> None:
    open_store(database_path(data_dir)).close()
    refuse_newer_database(data_dir)  # same version: no complaint


@pytest.mark.slow
def test_enrolled_synced_kiosk_passes_and_a_tampered_catalog_fails(tmp_path: Path, data_dir: Path) -> None:
    central_dir = tmp_path / "central"
    with running_central(central_dir) as url:
        (data_dir / "kiosk.toml").write_text(f'[central]\nurl = "{url}"\n', encoding="utf-8")
        code = central_json(central_dir, "enroll-code", "create", "--site", "SZ01")["code"]
        assert run_cli("enroll", "--code", code, data_dir=data_dir).returncode == 0
        assert run_cli("sync", "--once", data_dir=data_dir).returncode == 0

        status, checks = doctor(data_dir)
        failing = {n: c for n, c in checks.items() if c["status"] == "fail"}
        assert status == 0, failing
        assert checks["enrolment"]["status"] == "pass" and "SZ01" in checks["enrolment"]["detail"]
        assert checks["catalog"]["status"] == "pass" and "signed catalog" in checks["catalog"]["detail"]
        assert checks["central platform"]["status"] == "pass"
        assert checks["clock"]["status"] == "pass"
        assert checks["database"]["status"] == "pass"

        service = next((data_dir / "catalog" / "current" / "services").glob("*.yaml"))
        definition = yaml.safe_load(service.read_text("utf-8"))
        definition["name"]["zh_CN"] += "（免费）"  # still a valid definition, but not what was signed
        service.write_text(yaml.safe_dump(definition, allow_unicode=True), "utf-8")
        status, checks = doctor(data_dir)
        assert status == 1 and checks["catalog"]["status"] == "fail"
        assert "changed after their signature was verified" in checks["catalog"]["detail"]

    status, checks = doctor(data_dir)  # platform gone: the doctor says so, quickly
    assert checks["central platform"]["status"] == "fail" and "clock" not in checks


def test_doctor_never_hangs_on_an_unanswering_platform(data_dir: Path) -> None:
    import socket

    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        (data_dir / "kiosk.toml").write_text(f'[central]\nurl = "http://127.0.0.1:{port}"\n', encoding="utf-8")
        try:
            _code, checks = doctor(data_dir)
        except subprocess.TimeoutExpired:  # pragma: no cover - the failure this test guards against
            pytest.fail("kiosk doctor hung on a silent platform")
    assert checks["central platform"]["status"] == "fail"
