"""Enrolment codes are one-time and expire; every terminal endpoint needs a live credential."""

from __future__ import annotations

import stat
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient

from central.app import Platform
from central.cli import main as central_main
from central.enrolment import CODE_ALPHABET, issue_code
from sync.protocol import PROBLEM_CONTENT_TYPE, b64decode
from tests.central.central_helpers import dump_database

if TYPE_CHECKING:
    from tests.central.central_helpers import FakeTerminal


def test_a_code_enrols_a_device_with_its_site_and_the_platform_keys(
    client: TestClient, platform: Platform, new_code: Callable[..., str]
) -> None:
    answer = client.post("/v1/enrol", json={"code": new_code("sz01"), "device_name": "hall-1"})

    assert answer.status_code == 200
    body = answer.json()
    assert body["site_code"] == "SZ01"
    assert len(body["device_code"]) == 3 and set(body["device_code"]) <= set(CODE_ALPHABET)
    assert b64decode(body["sealing_public_key"]) == platform.keys.sealing_public
    assert b64decode(body["catalog_signing_public_key"]) == platform.keys.signing_public
    assert len(body["token"]) >= 32
    assert [d.device_id for d in platform.store.list_devices()] == [body["device_id"]]


def test_a_code_is_typeable_in_any_case_and_without_its_dash(
    client: TestClient, new_code: Callable[..., str]
) -> None:
    code = new_code()
    assert len(code.replace("-", "")) == 10

    typed = code.replace("-", " ").lower()
    assert client.post("/v1/enrol", json={"code": typed}).status_code == 200


def test_a_code_works_only_once(client: TestClient, new_code: Callable[..., str]) -> None:
    code = new_code()
    assert client.post("/v1/enrol", json={"code": code}).status_code == 200

    again = client.post("/v1/enrol", json={"code": code})

    assert again.status_code == 409
    assert again.headers["content-type"] == PROBLEM_CONTENT_TYPE
    assert again.json()["code"] == "enrolment_code_used"
    assert "already used" in again.json()["detail"]


def test_an_expired_code_is_refused(client: TestClient, platform: Platform) -> None:
    long_ago = datetime.now(UTC) - timedelta(hours=2)
    code = issue_code(platform.store, "SZ01", ttl=timedelta(hours=1), now=long_ago).code

    answer = client.post("/v1/enrol", json={"code": code})

    assert answer.status_code == 410
    assert answer.json()["code"] == "enrolment_code_expired"


def test_an_unknown_code_is_refused(client: TestClient) -> None:
    answer = client.post("/v1/enrol", json={"code": "ABCDE-FGHJK"})

    assert answer.status_code == 400
    assert answer.json()["code"] == "enrolment_code_invalid"


def test_only_hashes_of_codes_and_tokens_are_stored(
    client: TestClient, central_dir: Path, new_code: Callable[..., str]
) -> None:
    code = new_code()
    token = client.post("/v1/enrol", json={"code": code}).json()["token"]

    dump = dump_database(central_dir)
    assert code.replace("-", "") not in dump
    assert token not in dump


def test_first_start_creates_private_key_files(tmp_path: Path) -> None:
    from central.app import create_app

    folder = tmp_path / "fresh"
    create_app(folder)

    for name in ("sealing.key", "catalog-signing.key"):
        path = folder / "keys" / name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, name
        assert len(path.read_bytes()) == 32
    assert stat.S_IMODE((folder / "keys").stat().st_mode) == 0o700
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_keys_survive_a_restart(central_dir: Path, platform: Platform) -> None:
    from central.app import create_app

    again: Platform = create_app(central_dir).state.platform

    assert again.keys == platform.keys


TERMINAL_ENDPOINTS = [
    ("GET", "/v1/catalog"),
    ("POST", "/v1/submissions/batch"),
    ("GET", "/v1/status"),
    ("GET", "/v1/receipts/SZ01ABC000001"),
    ("GET", f"/v1/attachments/{'a' * 64}"),
    ("PUT", f"/v1/attachments/{'a' * 64}"),
]


@pytest.mark.parametrize(("method", "path"), TERMINAL_ENDPOINTS)
def test_terminal_endpoints_need_a_bearer_token(client: TestClient, method: str, path: str) -> None:
    missing = client.request(method, path)
    wrong = client.request(method, path, headers={"Authorization": "Bearer not-a-token"})

    for answer in (missing, wrong):
        assert answer.status_code == 401
        assert answer.headers["content-type"] == PROBLEM_CONTENT_TYPE
        assert answer.headers["www-authenticate"].startswith("Bearer")
        assert answer.json()["code"] == "unauthorized"


@pytest.mark.parametrize(("method", "path"), TERMINAL_ENDPOINTS)
def test_a_revoked_device_is_refused(
    client: TestClient, terminal: FakeTerminal, central_dir: Path, method: str, path: str
) -> None:
    assert client.get("/v1/status", headers=terminal.headers).status_code == 200

    status = central_main(
        ["--data-dir", str(central_dir), "devices", "revoke", terminal.enrolment.device_id]
    )

    assert status == 0
    answer = client.request(method, path, headers=terminal.headers)
    assert answer.status_code == 403
    assert answer.headers["content-type"] == PROBLEM_CONTENT_TYPE
    assert answer.json()["code"] == "device_revoked"


def test_revoking_one_device_leaves_the_others_working(
    client: TestClient, enrol: Callable[..., FakeTerminal], platform: Platform
) -> None:
    first, second = enrol(), enrol()

    platform.store.revoke_device(first.enrolment.device_id, now=datetime.now(UTC))

    assert client.get("/v1/status", headers=first.headers).status_code == 403
    assert client.get("/v1/status", headers=second.headers).status_code == 200


def test_devices_get_distinct_device_codes(enrol: Callable[..., FakeTerminal]) -> None:
    codes = {enrol().enrolment.device_code for _ in range(20)}

    assert len(codes) == 20


def test_a_site_code_that_cannot_go_into_receipt_numbers_is_refused(platform: Platform) -> None:
    from central.enrolment import InvalidSiteCode

    with pytest.raises(InvalidSiteCode, match="2 to 8"):
        issue_code(platform.store, "深圳-1")
