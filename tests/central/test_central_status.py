"""Case status: staff set it on the platform, terminals pull it by cursor, any receipt is
found from any terminal."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from central.app import Platform
from central.cli import main as central_main
from sync.protocol import PROBLEM_CONTENT_TYPE, StatusPage

if TYPE_CHECKING:
    from tests.central.central_helpers import FakeTerminal


def accepted_cases(terminal: FakeTerminal, count: int) -> list[dict[str, Any]]:
    items = [terminal.item() for _ in range(count)]
    results = terminal.push(*items).json()["results"]
    assert all(r["status"] == "accepted" for r in results)
    return [{**item, "case_no": r["case_no"]} for item, r in zip(items, results, strict=True)]


def pull_all(terminal: FakeTerminal, since: int = 0, limit: int = 2) -> list[StatusPage]:
    pages = []
    while True:
        answer = terminal.client.get(
            "/v1/status", params={"since": since, "limit": limit}, headers=terminal.headers
        )
        assert answer.status_code == 200
        page = StatusPage.model_validate(answer.json())
        pages.append(page)
        since = page.next_cursor
        if not page.has_more:
            return pages


def test_status_changes_are_pulled_in_pages_by_cursor(
    terminal: FakeTerminal, central_dir: Path
) -> None:
    cases = accepted_cases(terminal, 3)
    for status in ("in_review", "approved"):
        assert central_main(["--data-dir", str(central_dir), "case", "set-status",
                             cases[1]["case_no"], status, "--note", "窗口3"]) == 0

    pages = pull_all(terminal)

    changes = [c for page in pages for c in page.changes]
    assert [len(p.changes) for p in pages] == [2, 2, 1]
    assert [(c.case_no, c.status) for c in changes] == [
        (cases[0]["case_no"], "received"),
        (cases[1]["case_no"], "received"),
        (cases[2]["case_no"], "received"),
        (cases[1]["case_no"], "in_review"),
        (cases[1]["case_no"], "approved"),
    ]
    cursors = [c.cursor for c in changes]
    assert cursors == sorted(cursors) and len(set(cursors)) == 5
    assert changes[-1].note == "窗口3"
    assert changes[-1].receipt_no == cases[1]["receipt_no"]
    assert pages[-1].next_cursor == cursors[-1]


def test_a_pull_after_the_last_cursor_is_empty_until_something_changes(
    terminal: FakeTerminal, platform: Platform
) -> None:
    [case] = accepted_cases(terminal, 1)
    cursor = pull_all(terminal, limit=100)[-1].next_cursor

    [empty] = pull_all(terminal, since=cursor)
    platform.store.set_case_status(case["case_no"], "ready_for_collection", None,
                                   now=datetime.now(UTC))
    [later] = pull_all(terminal, since=cursor)

    assert empty.changes == [] and empty.next_cursor == cursor and empty.has_more is False
    assert [c.status for c in later.changes] == ["ready_for_collection"]


def test_a_terminal_pulls_only_its_own_sites_cases(enrol: Callable[..., FakeTerminal]) -> None:
    here, elsewhere = enrol("SZ01"), enrol("GZ02")
    accepted_cases(elsewhere, 2)
    [mine] = accepted_cases(here, 1)

    changes = [c for page in pull_all(here, limit=100) for c in page.changes]

    assert [c.case_no for c in changes] == [mine["case_no"]]


def test_any_terminal_can_look_up_any_receipt(
    enrol: Callable[..., FakeTerminal], platform: Platform
) -> None:
    here, elsewhere = enrol("SZ01"), enrol("GZ02")
    [case] = accepted_cases(here, 1)
    platform.store.set_case_status(case["case_no"], "more_info_needed", "请补充就业证明",
                                   now=datetime.now(UTC))

    answer = elsewhere.client.get(f"/v1/receipts/{case['receipt_no']}", headers=elsewhere.headers)

    assert answer.status_code == 200
    body = answer.json()
    assert body["case_no"] == case["case_no"]
    assert body["submission_id"] == case["submission_id"]
    assert body["status"] == "more_info_needed"
    assert body["status_note"] == "请补充就业证明"
    assert body["site_code"] == "SZ01"
    assert [h["status"] for h in body["history"]] == ["received", "more_info_needed"]


def test_an_unknown_receipt_is_a_404_problem(terminal: FakeTerminal) -> None:
    answer = terminal.client.get("/v1/receipts/NOPE0000000", headers=terminal.headers)

    assert answer.status_code == 404
    assert answer.headers["content-type"] == PROBLEM_CONTENT_TYPE
    assert "NOPE0000000" in answer.json()["detail"]


def test_a_bad_cursor_is_a_422_problem(terminal: FakeTerminal) -> None:
    answer = terminal.client.get("/v1/status", params={"since": -1}, headers=terminal.headers)

    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "query.since"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["C20250101-0000001", "done"], "unknown status 'done'"),
        (["C20250101-0009999", "approved"], "no case C20250101-0009999"),
    ],
)
def test_set_status_refuses_unknown_statuses_and_cases_in_one_line(
    terminal: FakeTerminal, central_dir: Path, capsys: pytest.CaptureFixture[str],
    args: list[str], message: str,
) -> None:
    accepted_cases(terminal, 1)

    status = central_main(["--data-dir", str(central_dir), "case", "set-status", *args])

    captured = capsys.readouterr()
    assert status == 1
    assert message in captured.err
    assert len(captured.err.strip().splitlines()) == 1
    assert "Traceback" not in captured.err


def test_set_status_json_reports_the_change(
    terminal: FakeTerminal, central_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    [case] = accepted_cases(terminal, 1)

    central_main(["--data-dir", str(central_dir), "case", "set-status", case["case_no"],
                  "completed", "--json"])

    change = json.loads(capsys.readouterr().out)
    assert change["case_no"] == case["case_no"]
    assert change["status"] == "completed"
    assert change["receipt_no"] == case["receipt_no"]


def test_walking_receipt_numbers_is_stopped_per_terminal(
    enrol: Callable[..., FakeTerminal], platform: Platform, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="central")
    walker, honest = enrol("SZ01"), enrol("SZ01")
    limit = platform.receipt_lookups.limit
    answers = [
        walker.client.get(f"/v1/receipts/SZ01K7M261123{n:05d}", headers=walker.headers).status_code
        for n in range(limit + 1)
    ]

    assert answers[:limit] == [404] * limit
    assert answers[limit] == 429
    refused = walker.client.get("/v1/receipts/SZ01K7M26112300001", headers=walker.headers)
    assert refused.headers["content-type"] == PROBLEM_CONTENT_TYPE
    assert refused.json()["code"] == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 600
    # another terminal of the same hall still gets answers
    assert honest.client.get("/v1/receipts/SZ01K7M26112300001", headers=honest.headers).status_code == 404
    # the walk is logged once for the terminal, not once per refused attempt
    for n in range(20):
        walker.client.get(f"/v1/receipts/SZ01K7M261124{n:05d}", headers=walker.headers)
    warnings = [r.getMessage() for r in caplog.records if "over the limit" in r.getMessage()]
    assert len(warnings) == 1 and walker.enrolment.device_id in warnings[0]
