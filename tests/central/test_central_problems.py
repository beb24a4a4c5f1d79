"""Every error is RFC 9457 problem+json; the OpenAPI document describes the protocol."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from sync.protocol import PROBLEM_CONTENT_TYPE

if TYPE_CHECKING:
    from tests.central.central_helpers import FakeTerminal


def assert_problem(answer: object, status: int, code: str) -> dict[str, object]:
    assert answer.status_code == status  # type: ignore[attr-defined]
    assert answer.headers["content-type"] == PROBLEM_CONTENT_TYPE  # type: ignore[attr-defined]
    body = answer.json()  # type: ignore[attr-defined]
    assert body["status"] == status
    assert body["type"] == f"urn:tongban:problem:{code}"
    assert body["code"] == code
    assert body["title"] and body["detail"]
    return body


def test_an_unknown_path_is_a_404_problem(client: TestClient) -> None:
    assert_problem(client.get("/v1/nothing-here"), 404, "not_found")


def test_a_wrong_method_is_a_405_problem(client: TestClient) -> None:
    assert_problem(client.delete("/v1/enrol"), 405, "method_not_allowed")


def test_a_malformed_body_is_a_422_problem_naming_the_field(client: TestClient) -> None:
    body = assert_problem(client.post("/v1/enrol", json={"device_name": "x"}), 422,
                          "validation_error")

    assert body["errors"] == [{"field": "code", "code": "missing", "message": "Field required"}]


def test_a_batch_that_is_not_json_is_a_400_problem(terminal: FakeTerminal) -> None:
    answer = terminal.client.post(
        "/v1/submissions/batch", content=b"{nope",
        headers={**terminal.headers, "Content-Type": "application/json"},
    )

    assert_problem(answer, 400, "bad_request")


def test_an_unexpected_failure_is_a_500_problem_without_internals(
    app: FastAPI, terminal: FakeTerminal, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(app.state.platform.store, "status_changes", broken)
    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.get("/v1/status", headers=terminal.headers)

    body = assert_problem(answer, 500, "internal_error")
    assert "secret" not in str(body)


def test_an_item_the_platform_fails_on_is_retryable_and_the_rest_go_through(
    app: FastAPI, terminal: FakeTerminal, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest = app.state.platform.ingest
    real = ingest._open
    poison = terminal.item()

    def sometimes_broken(item: object) -> object:
        if item.submission_id == poison["submission_id"]:  # type: ignore[attr-defined]
            raise RuntimeError("bug")
        return real(item)

    monkeypatch.setattr(ingest, "_open", sometimes_broken)
    results = terminal.push(poison, terminal.item()).json()["results"]

    assert results[0]["status"] == "rejected"
    assert results[0]["reason"] == "internal_error"
    assert results[0]["retryable"] is True
    assert results[1]["status"] == "accepted"


def test_the_openapi_document_uses_the_protocol_models(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()

    paths = spec["paths"]
    assert set(paths) >= {
        "/v1/enrol", "/v1/catalog", "/v1/submissions/batch", "/v1/attachments/{sha256}",
        "/v1/status", "/v1/receipts/{receipt_no}", "/v1/health",
    }
    batch = paths["/v1/submissions/batch"]["post"]
    assert batch["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/BatchRequest"
    )
    ok = batch["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert ok.endswith("/BatchResponse")
    schemas = spec["components"]["schemas"]
    assert {"BatchRequest", "SubmissionItem", "ItemResult", "Problem", "EnrolResponse",
            "CatalogBundle", "StatusPage", "ReceiptLookup", "AttachmentStatus"} <= set(schemas)
    assert schemas["BatchRequest"]["properties"]["items"]["items"]["$ref"].endswith(
        "/SubmissionItem"
    )
    assert "application/problem+json" in batch["responses"]["413"]["content"]
    assert "HTTPBearer" in spec["components"]["securitySchemes"]


def test_a_nul_character_in_a_text_is_a_client_error_on_either_database(terminal: FakeTerminal) -> None:
    """PostgreSQL cannot store U+0000 in text; a request carrying one is refused, never a 500."""
    answer = terminal.client.get("/v1/receipts/SZ01%00K7M", headers=terminal.headers)

    assert answer.status_code in (404, 422), answer.text
    assert answer.headers["content-type"] == PROBLEM_CONTENT_TYPE
