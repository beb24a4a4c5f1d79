"""Batch ingest: every item judged on its own, replays answered with the same case number."""

from __future__ import annotations

import json
import re
import shutil
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient

from catalog import DEFAULT_CATALOG_DIR
from central.app import Platform, create_app
from central.catalog_publisher import CatalogPublishError
from central.cli import main as central_main
from central.enrolment import issue_code
from sync.protocol import (
    MAX_BATCH_ITEMS,
    PROBLEM_CONTENT_TYPE,
    BatchResponse,
    EnrolResponse,
    b64decode,
    b64encode,
)

if TYPE_CHECKING:
    from tests.central.central_helpers import FakeTerminal

CASE_NO = re.compile(r"^C[0-9]{8}-[0-9]{7}$")


def results_of(answer: Any) -> list[dict[str, Any]]:
    assert answer.status_code == 200, answer.text
    return BatchResponse.model_validate(answer.json()).model_dump()["results"]


def test_an_item_is_accepted_with_a_case_number_and_stored_decrypted(
    terminal: FakeTerminal, platform: Platform
) -> None:
    item = terminal.item()

    [result] = results_of(terminal.push(item))

    assert result["status"] == "accepted"
    assert CASE_NO.match(result["case_no"])
    stored = platform.store.find_submission(item["submission_id"])
    assert stored is not None
    assert stored.case_no == result["case_no"]
    assert stored.receipt_no == item["receipt_no"]
    assert stored.answers["name"] == "张三"
    assert stored.status == "received"


def test_a_replay_is_a_duplicate_with_the_same_case_number(terminal: FakeTerminal) -> None:
    item = terminal.item()
    [first] = results_of(terminal.push(item))

    [again] = results_of(terminal.push(item))

    assert again["status"] == "duplicate"
    assert again["case_no"] == first["case_no"]


def test_a_replay_is_a_duplicate_even_if_resealed_or_altered(terminal: FakeTerminal) -> None:
    item = terminal.item()
    [first] = results_of(terminal.push(item))
    resealed = terminal.item(submission_id=item["submission_id"], receipt_no="OTHER0001")
    garbage = {**item, "sealed_payload": "AAAA"}

    results = results_of(terminal.push(resealed, garbage))

    assert [r["status"] for r in results] == ["duplicate", "duplicate"]
    assert {r["case_no"] for r in results} == {first["case_no"]}


def test_a_mixed_batch_answers_each_item_and_one_bad_item_blocks_nothing(
    terminal: FakeTerminal, platform: Platform
) -> None:
    earlier = terminal.item()
    [earlier_result] = results_of(terminal.push(earlier))
    good_1, good_2 = terminal.item(), terminal.item()
    tampered = terminal.item()
    sealed = bytearray(b64decode(tampered["sealed_payload"]))
    sealed[-1] ^= 0x01
    tampered["sealed_payload"] = b64encode(bytes(sealed))
    not_an_item = {"submission_id": "not-a-uuid", "service_id": "residence-permit"}

    results = results_of(terminal.push(good_1, tampered, earlier, not_an_item, good_2, good_1))

    assert [r["status"] for r in results] == [
        "accepted", "rejected", "duplicate", "rejected", "accepted", "duplicate",
    ]
    assert results[1]["reason"] == "sealed_payload_invalid"
    assert results[1]["retryable"] is False
    assert results[2]["case_no"] == earlier_result["case_no"]
    assert results[3]["reason"] == "item_invalid"
    assert results[5]["case_no"] == results[0]["case_no"]
    assert [r["submission_id"] for r in results] == [
        good_1["submission_id"], tampered["submission_id"], earlier["submission_id"],
        "not-a-uuid", good_2["submission_id"], good_1["submission_id"],
    ]
    assert len({r["case_no"] for r in results if r["case_no"]}) == 3
    assert platform.store.find_submission(tampered["submission_id"]) is None


def test_a_payload_sealed_for_another_submission_is_rejected(terminal: FakeTerminal) -> None:
    donor = terminal.item()
    moved = terminal.item()
    moved["sealed_payload"] = donor["sealed_payload"]  # a box bound to another id

    [result] = results_of(terminal.push(moved))

    assert result["status"] == "rejected"
    assert result["reason"] == "sealed_payload_invalid"


def test_a_payload_sealed_to_another_key_is_rejected(terminal: FakeTerminal) -> None:
    from sync.sealing import generate_keypair, seal

    _, other_public = generate_keypair()
    submission_id = str(uuid.uuid4())
    sealed = seal(other_public, b'{"answers": {}}', context=submission_id.encode())

    [result] = results_of(terminal.push(terminal.item(submission_id=submission_id, sealed=sealed)))

    assert result["reason"] == "sealed_payload_invalid"


def test_a_payload_that_is_not_answers_json_is_rejected(terminal: FakeTerminal) -> None:
    from sync.sealing import seal

    submission_id = str(uuid.uuid4())
    sealed = seal(terminal.sealing_key, b'["not", "answers"]', context=submission_id.encode())

    [result] = results_of(terminal.push(terminal.item(submission_id=submission_id, sealed=sealed)))

    assert result["reason"] == "payload_invalid"


def test_schema_invalid_answers_are_rejected_naming_the_fields(terminal: FakeTerminal) -> None:
    from tests.central.central_helpers import example_answers_for

    answers = dict(example_answers_for("residence-permit"))
    answers["mobile"] = "12345"
    del answers["name"]
    answers["favourite_colour"] = "blue"

    [result] = results_of(terminal.push(terminal.item(answers=answers)))

    assert result["status"] == "rejected"
    assert result["reason"] == "answers_invalid"
    assert result["retryable"] is False
    by_field = {e["field"]: e["code"] for e in result["errors"]}
    assert by_field == {"mobile": "pattern", "name": "required", "favourite_colour": "unknown_field"}
    assert "mobile" in result["detail"] and "name" in result["detail"]
    assert "12345" not in json.dumps(result)  # values are never echoed


def test_answers_that_break_a_rule_only_the_forms_engine_knows_are_rejected(
    terminal: FakeTerminal,
) -> None:
    from tests.central.central_helpers import example_answers_for

    answers = dict(example_answers_for("residence-permit"))
    answers["id_number"] = "110105194912310021"  # right shape, wrong check digit

    [result] = results_of(terminal.push(terminal.item(answers=answers)))

    assert result["reason"] == "answers_invalid"
    assert [(e["field"], e["code"]) for e in result["errors"]] == [("id_number", "bad_id_number")]
    assert "110105194912310021" not in json.dumps(result)


def test_unknown_services_and_form_versions_are_rejected(terminal: FakeTerminal) -> None:
    results = results_of(
        terminal.push(
            terminal.item(service_id="no-such-service", answers={}),
            terminal.item(form_version="9.9.9"),
        )
    )

    assert [r["reason"] for r in results] == ["unknown_service", "unknown_form_version"]


def test_a_receipt_number_used_by_another_submission_is_rejected(terminal: FakeTerminal) -> None:
    first = terminal.item(receipt_no="SZ01X0000001")
    second = terminal.item(receipt_no="SZ01X0000001")

    results = results_of(terminal.push(first, second))

    assert [r["status"] for r in results] == ["accepted", "rejected"]
    assert results[1]["reason"] == "receipt_no_conflict"


def test_a_real_submission_needs_its_attachments_uploaded_first(terminal: FakeTerminal) -> None:
    answers, hashes = terminal.real_answers()
    missing = terminal.item(answers=dict(example_answers_with_placeholders()), is_test=False)

    results = results_of(
        terminal.push(missing, terminal.item(answers=answers, is_test=False, attachments=hashes))
    )

    assert results[0]["status"] == "rejected"
    assert results[0]["reason"] == "attachment_missing"
    assert results[0]["retryable"] is True
    assert results[1]["status"] == "accepted"


def example_answers_with_placeholders() -> dict[str, Any]:
    from tests.central.central_helpers import example_answers_for

    return example_answers_for("residence-permit")


def test_an_item_rejected_for_a_missing_attachment_is_accepted_once_it_is_uploaded(
    terminal: FakeTerminal, platform: Platform
) -> None:
    from tests.central.central_helpers import attachment_refs, sealed_attachment

    answers, _ = terminal.real_answers()
    late = b"scanned later"
    digest, sealed = sealed_attachment(terminal.sealing_key, late)
    next(iter(attachment_refs(answers))).update(sha256=digest, size=len(late))
    item = terminal.item(answers=answers, is_test=False)
    [before] = results_of(terminal.push(item))

    terminal.client.put(f"/v1/attachments/{digest}", content=sealed, headers=terminal.headers)
    [after] = results_of(terminal.push(item))

    assert before["reason"] == "attachment_missing"
    assert after["status"] == "accepted"
    stored = platform.store.find_submission(item["submission_id"])
    assert stored is not None and digest in stored.attachments


def test_concurrent_duplicate_sends_make_one_case(
    terminal: FakeTerminal, platform: Platform
) -> None:
    device = platform.store.list_devices()[0]
    items = [terminal.item() for _ in range(20)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: platform.ingest.ingest(device, items), range(8)))

    for position in range(len(items)):
        statuses = [answer[position].status for answer in answers]
        assert statuses.count("accepted") == 1, statuses
        assert statuses.count("duplicate") == 7
        assert len({answer[position].case_no for answer in answers}) == 1
    assert len(platform.store.list_submissions()) == 20
    assert all(item["submission_id"] for item in items)


def test_concurrent_duplicate_http_sends_make_one_case(terminal: FakeTerminal, platform: Platform) -> None:
    item = terminal.item()

    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda _: terminal.push(item), range(6)))

    results = [results_of(a)[0] for a in answers]
    assert sorted(r["status"] for r in results) == ["accepted"] + ["duplicate"] * 5
    assert len({r["case_no"] for r in results}) == 1
    assert len(platform.store.list_submissions()) == 1


def test_a_batch_over_the_item_limit_is_refused_with_413(terminal: FakeTerminal) -> None:
    item = {"submission_id": str(uuid.uuid4())}

    answer = terminal.push(*[item] * (MAX_BATCH_ITEMS + 1))

    assert answer.status_code == 413
    assert answer.headers["content-type"] == PROBLEM_CONTENT_TYPE
    assert answer.json()["code"] == "payload_too_large"


def test_a_batch_over_the_byte_limit_is_refused_with_413(terminal: FakeTerminal) -> None:
    body = b'{"items": [' + b'"' + b"x" * (9 * 1024 * 1024) + b'"]}'

    answer = terminal.client.post(
        "/v1/submissions/batch",
        content=body,
        headers={**terminal.headers, "Content-Type": "application/json"},
    )

    assert answer.status_code == 413
    assert answer.json()["code"] == "payload_too_large"


def test_a_body_that_is_not_a_batch_is_a_problem(terminal: FakeTerminal) -> None:
    answer = terminal.client.post(
        "/v1/submissions/batch", json={"things": []}, headers=terminal.headers
    )

    assert answer.status_code == 422
    assert answer.headers["content-type"] == PROBLEM_CONTENT_TYPE


def test_an_empty_batch_is_answered_with_no_results(terminal: FakeTerminal) -> None:
    assert results_of(terminal.push()) == []


def test_submissions_list_shows_what_arrived(
    terminal: FakeTerminal, central_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    item = terminal.item()
    [result] = results_of(terminal.push(item))

    assert central_main(["--data-dir", str(central_dir), "submissions", "list", "--json"]) == 0

    [row] = json.loads(capsys.readouterr().out)
    assert row["submission_id"] == item["submission_id"]
    assert row["case_no"] == result["case_no"]
    assert row["receipt_no"] == item["receipt_no"]
    assert row["service_id"] == "residence-permit"
    assert row["form_version"] == "1.0.0"
    assert row["is_test"] is True
    assert row["status"] == "received"
    assert row["received_at"]
    assert "answers" not in row


def changed_catalog(tmp_path: Path, *, new_version: str | None) -> Path:
    """A copy of the bundled catalog with residence-permit's name changed."""
    folder = tmp_path / "catalog-copy"
    shutil.copytree(DEFAULT_CATALOG_DIR, folder, ignore=shutil.ignore_patterns("__*"))
    path = folder / "services" / "residence-permit.yaml"
    text = path.read_text("utf-8").replace("zh_CN: 居住证申领\n", "zh_CN: 居住证申领（新）\n", 1)
    assert "（新）" in text
    if new_version:
        text = text.replace('version: "1.0.0"', f'version: "{new_version}"', 1)
    path.write_text(text, "utf-8")
    return folder


def test_submissions_on_an_older_form_version_still_validate_after_a_new_catalog(
    tmp_path: Path, central_dir: Path
) -> None:
    app = create_app(central_dir, changed_catalog(tmp_path, new_version="1.1.0"))
    platform: Platform = app.state.platform
    code = issue_code(platform.store, "SZ01").code
    with TestClient(app) as client:
        from tests.central.central_helpers import FakeTerminal

        enrolment = EnrolResponse.model_validate(
            client.post("/v1/enrol", json={"code": code}).json()
        )
        terminal = FakeTerminal(client, enrolment)

        results = results_of(
            terminal.push(terminal.item(form_version="1.0.0"), terminal.item(form_version="1.1.0"))
        )

    assert [r["status"] for r in results] == ["accepted", "accepted"]


def test_changing_a_published_form_without_a_new_version_is_refused(
    tmp_path: Path, central_dir: Path
) -> None:
    with pytest.raises(CatalogPublishError, match=r"residence-permit.*new version"):
        create_app(central_dir, changed_catalog(tmp_path, new_version=None))


def test_the_reference_flow_stores_what_the_terminal_sealed(
    enrol: Callable[..., FakeTerminal], platform: Platform
) -> None:
    terminal = enrol("BJ02")
    answers, hashes = terminal.real_answers()
    item = terminal.item(answers=answers, is_test=False, attachments=hashes)

    [result] = results_of(terminal.push(item))

    stored = platform.store.get_submission(result["case_no"])
    assert stored is not None
    assert stored.answers == answers
    assert stored.site_code == "BJ02"
    assert stored.is_test is False
    assert sorted(stored.attachments) == sorted(hashes)
    for digest in hashes:
        assert platform.uploads.read(digest)
