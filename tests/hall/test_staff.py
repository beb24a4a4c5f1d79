"""Staff accounts: argon2id PINs, sign-in with lock-out, every attempt audited; supervisor actions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sync.audit import list_entries, verify_chain
from sync.outbox import OutboxError
from sync.staff import (
    LockoutPolicy,
    PermissionDenied,
    SignInOutcome,
    StaffError,
    add_staff,
    cancel_dead_letter,
    reset_pin,
    sign_in,
)
from sync.store import Store
from tests.hall.conftest import Terminal
from tests.support.cli import run_cli

NOW = datetime(2030, 5, 20, 1, 0, tzinfo=UTC)
POLICY = LockoutPolicy(max_failures=3, lockout=timedelta(minutes=10))


@pytest.fixture
def store(terminal: Terminal) -> Store:
    add_staff(terminal.store, "agent1", "482913", "agent", now=NOW)
    add_staff(terminal.store, "super1", "739164", "supervisor", now=NOW)
    return terminal.store


def test_pin_is_stored_only_as_an_argon2id_hash(store: Store) -> None:
    with store.reading() as db:
        digest = db.execute("SELECT pin_hash FROM staff WHERE username = 'agent1'").fetchone()[0]
    assert digest.startswith("$argon2id$") and "482913" not in digest


def test_sign_in_with_the_right_pin(store: Store) -> None:
    result = sign_in(store, "Agent1 ", "482913", policy=POLICY, now=NOW)
    assert result.ok and result.account is not None and result.account.role == "agent"


def test_lock_out_after_repeated_failures_then_open_again(store: Store) -> None:
    first = sign_in(store, "agent1", "000001", policy=POLICY, now=NOW)
    assert first.outcome == SignInOutcome.FAILED and first.attempts_left == 2
    sign_in(store, "agent1", "000002", policy=POLICY, now=NOW)
    third = sign_in(store, "agent1", "000003", policy=POLICY, now=NOW)
    assert third.outcome == SignInOutcome.LOCKED and third.locked_until == NOW + timedelta(minutes=10)
    # Even the right PIN is refused while locked.
    assert sign_in(store, "agent1", "482913", policy=POLICY, now=NOW + timedelta(minutes=9)).outcome == "locked"
    assert sign_in(store, "agent1", "482913", policy=POLICY, now=NOW + timedelta(minutes=11)).ok
    actions = [e.action for e in list_entries(store) if e.actor == "agent1"]
    assert actions == ["sign-in-failed", "sign-in-failed", "sign-in-failed", "sign-in-locked", "sign-in-ok"]
    assert verify_chain(store).ok


def test_unknown_account_fails_like_a_wrong_pin_and_is_audited(store: Store) -> None:
    result = sign_in(store, "nobody", "482913", policy=POLICY, now=NOW)
    assert result.outcome == SignInOutcome.FAILED and result.account is None
    assert list_entries(store)[-1].detail == "unknown account"


def test_reset_pin_lifts_the_lock(store: Store) -> None:
    for pin in ("111112", "111113", "111114"):
        sign_in(store, "agent1", pin, policy=POLICY, now=NOW)
    reset_pin(store, "agent1", "620481", now=NOW)
    assert sign_in(store, "agent1", "620481", policy=POLICY, now=NOW).ok


def test_weak_pins_and_bad_names_are_refused(store: Store) -> None:
    for pin in ("12345", "111111", "123456"):
        with pytest.raises(StaffError):
            add_staff(store, "agent2", pin, "agent")
    with pytest.raises(StaffError):
        add_staff(store, "a b", "482913", "agent")
    with pytest.raises(StaffError, match="exists"):
        add_staff(store, "agent1", "482913", "agent")


def test_only_a_supervisor_cancels_a_dead_letter_with_a_reason(terminal: Terminal, store: Store) -> None:
    queued = terminal.submit_test()
    store.mark_dead(queued.submission_id, "answers_invalid: test")
    agent = sign_in(store, "agent1", "482913", policy=POLICY, now=NOW).account
    boss = sign_in(store, "super1", "739164", policy=POLICY, now=NOW).account
    assert agent is not None and boss is not None
    with pytest.raises(PermissionDenied):
        cancel_dead_letter(store, agent, queued.submission_id, "not needed")
    with pytest.raises(StaffError):
        cancel_dead_letter(store, boss, queued.submission_id, "  ")
    cancel_dead_letter(store, boss, queued.submission_id, "citizen withdrew the application")
    assert store.find(queued.submission_id).state == "cancelled"
    assert store.counts()["cancelled"] == 1
    entry = list_entries(store)[-1]
    assert (entry.action, entry.actor, entry.detail) == ("dead-cancel", "super1", "citizen withdrew the application")
    with pytest.raises(OutboxError):  # only dead letters
        cancel_dead_letter(store, boss, queued.submission_id, "again")
    assert terminal.sync().pushed == 0  # a cancelled item is never sent


def test_cli_reads_the_pin_from_stdin_never_argv(terminal: Terminal) -> None:
    data_dir: Path = terminal.data_dir
    terminal.store.close()
    done = run_cli("staff", "add", "desk1", "--role", "supervisor", data_dir=data_dir, input_text="583920\n")
    assert done.returncode == 0, done.stderr
    listed = run_cli("staff", "list", "--json", data_dir=data_dir)
    assert '"desk1"' in listed.stdout and "583920" not in listed.stdout
    weak = run_cli("staff", "add", "desk2", "--role", "agent", data_dir=data_dir, input_text="111111\n")
    assert weak.returncode == 1 and "too easy" in weak.stderr
