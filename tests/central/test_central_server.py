"""The real ``kiosk-central`` process: serve on a free port, talk HTTP, administer by CLI."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from sync.protocol import EnrolResponse, StatusPage
from tests.central.central_helpers import FakeTerminal
from tests.support.central_process import (
    REPO,
    central_cli,
    central_json,
    create_enrolment_code,
    start_central_process,
    stop_central_process,
)

pytestmark = pytest.mark.slow


def enrolled_terminal(url: str, data_dir: Path) -> FakeTerminal:
    client = httpx.Client(base_url=url, timeout=30)
    answer = client.post("/v1/enrol", json={"code": create_enrolment_code(data_dir, "SZ01")})
    assert answer.status_code == 200, answer.text
    return FakeTerminal(client, EnrolResponse.model_validate(answer.json()))


def test_serve_prints_the_real_port_and_stops_cleanly_on_sigterm(
    central_dir: Path,
) -> None:
    data_dir = central_dir

    url, proc = start_central_process(data_dir)
    try:
        assert re.fullmatch(r"http://127\.0\.0\.1:[0-9]+", url)
        assert int(url.rsplit(":", 1)[1]) > 0
        assert httpx.get(f"{url}/v1/health", timeout=10).json()["status"] == "ok"
    finally:
        status = stop_central_process(proc)
    assert status == 0


def test_a_terminal_enrols_submits_and_sees_the_status_over_real_http(
    central_server: tuple[str, Path],
) -> None:
    url, data_dir = central_server
    terminal = enrolled_terminal(url, data_dir)
    answers, hashes = terminal.real_answers()
    real = terminal.item(answers=answers, is_test=False, attachments=hashes)
    example = terminal.item()

    results = terminal.push(real, example).json()["results"]

    assert [r["status"] for r in results] == ["accepted", "accepted"]
    listed = {row["receipt_no"]: row for row in central_json(data_dir, "submissions", "list")}
    assert listed[real["receipt_no"]]["case_no"] == results[0]["case_no"]
    assert listed[real["receipt_no"]]["submission_id"] == real["submission_id"]
    assert listed[example["receipt_no"]]["is_test"] is True
    shown = central_json(data_dir, "submissions", "show", results[0]["case_no"])
    assert shown["answers"] == answers

    done = central_cli(data_dir, "case", "set-status", results[0]["case_no"],
                       "ready_for_collection", "--note", "请到3号窗口领取")
    assert done.returncode == 0, done.stderr

    page = StatusPage.model_validate(
        terminal.client.get("/v1/status", params={"since": 0}, headers=terminal.headers).json()
    )
    assert [(c.case_no, c.status) for c in page.changes][-1] == (
        results[0]["case_no"], "ready_for_collection"
    )
    lookup = terminal.client.get(f"/v1/receipts/{real['receipt_no']}", headers=terminal.headers)
    assert lookup.json()["status"] == "ready_for_collection"


def test_concurrent_duplicate_sends_over_http_make_one_case_each(
    central_server: tuple[str, Path],
) -> None:
    send_duplicates_at_once(*central_server)


def test_two_worker_processes_serve_and_still_make_one_case_per_submission(
    central_dir: Path,
) -> None:
    url, proc = start_central_process(central_dir, extra_args=["--workers", "2"])
    try:
        send_duplicates_at_once(url, central_dir)
    finally:
        status = stop_central_process(proc)
    assert status == 0


def send_duplicates_at_once(url: str, data_dir: Path) -> None:
    """Six clients send the same batch of 25 at once: one case per submission, 25 stored."""
    terminal = enrolled_terminal(url, data_dir)
    items = [terminal.item() for _ in range(25)]

    def send(_: int) -> list[dict[str, object]]:
        with httpx.Client(base_url=url, timeout=60) as client:
            answer = client.post("/v1/submissions/batch", json={"items": items},
                                 headers=terminal.headers)
            assert answer.status_code == 200, answer.text
            return answer.json()["results"]

    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(send, range(6)))

    for position in range(len(items)):
        statuses = sorted(str(a[position]["status"]) for a in answers)
        assert statuses == ["accepted"] + ["duplicate"] * 5
        assert len({a[position]["case_no"] for a in answers}) == 1
    assert len(central_json(data_dir, "submissions", "list")) == 25


def test_a_revoked_device_is_refused_by_the_running_server(
    central_server: tuple[str, Path],
) -> None:
    url, data_dir = central_server
    terminal = enrolled_terminal(url, data_dir)

    revoked = central_cli(data_dir, "devices", "revoke", terminal.enrolment.device_id)
    answer = terminal.client.get("/v1/status", headers=terminal.headers)

    assert revoked.returncode == 0, revoked.stderr
    assert answer.status_code == 403
    assert answer.headers["content-type"] == "application/problem+json"
    devices = central_json(data_dir, "devices", "list")
    assert devices[0]["revoked_at"] is not None


def run_serve(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "central.cli", "--data-dir", str(data_dir), "serve", *args],
        capture_output=True, text=True, timeout=60, cwd=REPO, check=False,
    )


def test_serve_with_a_missing_catalog_folder_fails_in_one_line(tmp_path: Path) -> None:
    done = run_serve(tmp_path / "central", "--port", "0", "--catalog", str(tmp_path / "nope"))

    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        f"kiosk-central: error: catalog folder {tmp_path / 'nope'} does not exist (--catalog)"
    ]


def test_serve_with_an_invalid_catalog_fails_in_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "catalog"
    (folder / "services").mkdir(parents=True)
    (folder / "categories.yaml").write_text("format: 1\ncategories: []\n", "utf-8")
    (folder / "services" / "broken.yaml").write_text("id: broken\n", "utf-8")

    done = run_serve(tmp_path / "central", "--port", "0", "--catalog", str(folder))

    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and "broken.yaml" in errors[0]
    assert "Traceback" not in done.stderr


def test_serve_on_a_port_in_use_fails_in_one_line(
    central_dir: Path,
) -> None:
    data_dir = central_dir
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        done = run_serve(data_dir, "--port", str(port))

    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and f"127.0.0.1:{port}" in errors[0]
    assert "Traceback" not in done.stderr


def test_enroll_code_create_prints_just_the_code(tmp_path: Path) -> None:
    plain = central_cli(tmp_path / "central", "enroll-code", "create", "--site", "SZ01")
    as_json = central_json(tmp_path / "central", "enroll-code", "create", "--site", "SZ01",
                           "--ttl-hours", "2")

    assert plain.returncode == 0
    assert re.fullmatch(r"[A-Z2-9]{5}-[A-Z2-9]{5}\n", plain.stdout)
    assert re.fullmatch(r"[A-Z2-9]{5}-[A-Z2-9]{5}", as_json["code"])


def test_a_bad_site_code_fails_in_one_line(tmp_path: Path) -> None:
    done = central_cli(tmp_path / "central", "enroll-code", "create", "--site", "x")

    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "site code" in done.stderr


def test_an_unreachable_postgres_database_fails_in_one_line_without_the_password(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again below: nothing listens there
    url = f"postgresql://tongban:S3CRET@127.0.0.1:{port}/tongban_central"

    done = central_cli(tmp_path / "central", "--database", url, "devices", "list")

    assert done.returncode == 2
    assert done.stderr.startswith(
        f"kiosk-central: error: cannot connect to the PostgreSQL database tongban_central on 127.0.0.1:{port}: "
    )
    assert len(done.stderr.strip().splitlines()) == 1
    assert "S3CRET" not in done.stderr and "Traceback" not in done.stderr


def test_a_misspelt_key_in_central_toml_is_named(tmp_path: Path) -> None:
    data_dir = tmp_path / "central"
    data_dir.mkdir()
    (data_dir / "central.toml").write_text('datbase = "postgresql:///x"\n', encoding="utf-8")

    done = central_cli(data_dir, "devices", "list")

    assert done.returncode == 2
    toml = data_dir / "central.toml"
    assert done.stderr == f"kiosk-central: error: {toml}: unknown key 'datbase' (known: database)\n"


WORKER_FAILS_SCRIPT = """
import logging, os, socket, sys
from types import SimpleNamespace
from fastapi import FastAPI
from central.server import serve_workers

logging.basicConfig(level=logging.INFO, stream=sys.stdout)
flag = sys.argv[1]

def make_app():
    try:
        os.mkdir(flag)  # the first worker to get here fails, as on an unreachable database
    except FileExistsError:
        app = FastAPI()
        app.state.platform = SimpleNamespace(store=SimpleNamespace(close=lambda: None))
        return app
    raise RuntimeError("cannot reach the database")

sock = socket.create_server(("127.0.0.1", 0))
sys.exit(serve_workers(make_app, sock, workers=2, on_ready=lambda: print("listening", flush=True)))
"""


def test_a_worker_that_fails_to_start_stops_the_server_instead_of_hanging(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", WORKER_FAILS_SCRIPT, str(tmp_path / "failed-once")],
                          capture_output=True, text=True, timeout=60, cwd=REPO,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Only 1 of 2 workers started" in done.stdout
    assert "listening" not in done.stdout
