"""Bad input against the central platform's API: schemathesis over its own OpenAPI, and the
regressions it found, each pinned by a request a misbehaving terminal could send.

``bench/fuzz.py --api-examples N`` runs the same fuzzing with many more examples.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from sync.protocol import PROBLEM_CONTENT_TYPE, UPLOAD_LENGTH_HEADER, UPLOAD_OFFSET_HEADER
from tests.central.central_helpers import FakeTerminal
from tests.support.api_fuzz import fuzz_api

TOO_BIG_FOR_SQLITE = 2**63  # one more than SQLite's largest INTEGER


def test_every_operation_survives_schema_driven_bad_input(app: FastAPI, terminal: FakeTerminal) -> None:
    report = fuzz_api(app, terminal.enrolment.token, examples=5, seed=1)
    assert report.operations >= 17
    assert report.requests > report.operations * 5
    assert not report.failures, report.describe_failures()


def _assert_problem(answer: object, status: int, field: str) -> None:
    assert answer.status_code == status, answer.text  # type: ignore[attr-defined]
    assert answer.headers["content-type"].startswith(PROBLEM_CONTENT_TYPE)  # type: ignore[attr-defined]
    fields = [e["field"] for e in answer.json()["errors"]]  # type: ignore[attr-defined]
    assert any(field in f for f in fields), fields


@pytest.mark.parametrize("path", ["/v1/status", "/v1/appointments/used"])
def test_a_cursor_too_big_for_the_database_is_refused_not_a_server_error(
    client: TestClient, terminal: FakeTerminal, path: str
) -> None:
    answer = client.get(path, params={"since": TOO_BIG_FOR_SQLITE}, headers=terminal.headers)
    _assert_problem(answer, 422, "since")


def test_a_rating_id_too_big_for_the_database_is_refused_not_a_server_error(
    client: TestClient, terminal: FakeTerminal
) -> None:
    rating = {
        "rating_id": TOO_BIG_FOR_SQLITE,
        "service_id": "residence-permit",
        "score": 5,
        "created_at": datetime.now(UTC).isoformat(),
    }
    answer = client.post("/v1/ratings/batch", json={"items": [rating]}, headers=terminal.headers)
    _assert_problem(answer, 422, "rating_id")


def test_an_audit_seq_too_big_for_the_database_is_refused_not_a_server_error(
    client: TestClient, terminal: FakeTerminal
) -> None:
    entry = {
        "seq": TOO_BIG_FOR_SQLITE,
        "at": "2026-11-23 10:00:00",
        "actor": "kiosk",
        "action": "submit",
        "prev_hash": "0" * 64,
        "hash": "0" * 64,
    }
    answer = client.post("/v1/audit/batch", json={"items": [entry]}, headers=terminal.headers)
    _assert_problem(answer, 422, "seq")


def test_an_upload_offset_too_big_for_the_database_is_refused(client: TestClient, terminal: FakeTerminal) -> None:
    headers = {**terminal.headers, UPLOAD_OFFSET_HEADER: str(TOO_BIG_FOR_SQLITE), UPLOAD_LENGTH_HEADER: "10"}
    answer = client.patch(f"/v1/attachments/{'a' * 64}", content=b"x", headers=headers)
    _assert_problem(answer, 422, UPLOAD_OFFSET_HEADER)


def test_the_openapi_declares_every_error_the_platform_answers(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    audit = paths["/v1/audit/batch"]["post"]["responses"]
    assert {"400", "413"} <= set(audit), "a body that is not JSON or too large is answered 400 / 413"
    assert "404" in paths["/v1/help-requests/{request_id}/ack"]["post"]["responses"]
    head = paths["/v1/attachments/{sha256}"]["head"]["responses"]["200"]
    assert "content" not in head, "a HEAD answer has no body to describe"
