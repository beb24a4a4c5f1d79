"""The platform checks each terminal's audit chain on arrival and keeps its own log readable."""

from __future__ import annotations

import logging

import pytest

from sync.protocol import GENESIS_HASH, audit_entry_hash
from tests.central.central_helpers import FakeTerminal


def chain(count: int, *, tamper_from: int | None = None) -> list[dict[str, object]]:
    """``count`` linked audit entries; from ``tamper_from`` on each hash is wrong."""
    items: list[dict[str, object]] = []
    prev = GENESIS_HASH
    for seq in range(1, count + 1):
        at, detail = f"2030-05-20T01:{seq:02d}:00", f"receipt job {seq}"
        digest = audit_entry_hash(prev, seq, at, "agent1", "reprint", None, detail)
        if tamper_from is not None and seq >= tamper_from:
            digest = "f" * 64
        items.append({"seq": seq, "at": at, "actor": "agent1", "action": "reprint", "submission_id": None,
                      "detail": detail, "prev_hash": prev, "hash": digest})
        prev = digest
    return items


def test_an_intact_chain_is_accepted_without_a_warning(
    terminal: FakeTerminal, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="central")
    answer = terminal.client.post("/v1/audit/batch", json={"items": chain(5)}, headers=terminal.headers)
    assert answer.status_code == 200
    assert [r["status"] for r in answer.json()["results"]] == ["accepted"] * 5
    assert not [r for r in caplog.records if "audit chain" in r.getMessage()]


def test_a_broken_chain_is_answered_per_entry_and_logged_once(
    terminal: FakeTerminal, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="central")
    items = chain(200, tamper_from=3)
    answer = terminal.client.post("/v1/audit/batch", json={"items": items}, headers=terminal.headers)
    assert answer.status_code == 200
    results = answer.json()["results"]
    assert [r["status"] for r in results[:2]] == ["accepted"] * 2
    assert {r["reason"] for r in results[2:]} == {"chain_broken"}
    # The same entries again (the terminal did not get the answer): kept once, nothing new.
    again = terminal.client.post("/v1/audit/batch", json={"items": items}, headers=terminal.headers)
    assert {r["status"] for r in again.json()["results"]} == {"duplicate"}
    warnings = [r.getMessage() for r in caplog.records if "audit chain" in r.getMessage()]
    # One line for the batch, naming the device, the count and the first break, instead of
    # one line for each of the 198 entries.
    assert len(warnings) == 1
    assert terminal.enrolment.device_id in warnings[0]
    assert "198 of 200" in warnings[0] and "entry 3" in warnings[0]
