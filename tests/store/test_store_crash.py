"""kill -9 in the middle of enqueues: nothing committed is lost, nothing is half written."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sync.receipt import ReceiptNumber
from sync.store import Store, database_path, open_store

CHILD = Path(__file__).with_name("enqueue_child.py")
REPO = Path(__file__).resolve().parents[2]
ROUNDS = 6


def _run_and_kill(path: Path, start: int, rng: random.Random) -> list[tuple[str, str]]:
    """Start a child enqueuing in a loop, kill -9 it at a random moment, return what it committed."""
    child = subprocess.Popen(
        [sys.executable, str(CHILD), str(path), str(start)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert child.stdout is not None
    # Wait until it is really committing, then kill it somewhere in the next few commits.
    first = child.stdout.readline()
    assert first, child.stderr.read().decode() if child.stderr else "child died"
    time.sleep(rng.uniform(0.0, 0.25))
    child.send_signal(signal.SIGKILL)
    rest, _ = child.communicate(timeout=30)
    assert child.returncode == -signal.SIGKILL
    text = (first + rest).decode("utf-8", "replace")
    # Only complete lines were printed after a commit; a torn last line proves nothing.
    lines = text.split("\n")[:-1]
    return [tuple(line.split(" ")) for line in lines]  # type: ignore[misc]


def _check_consistent(store: Store) -> None:
    db = store.db
    assert store.integrity_check() == ["ok"]
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    submissions = db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0]
    # every submission has its outbox row and both sealed attachments: never half
    assert db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0] == submissions
    assert db.execute(
        "SELECT COUNT(*) FROM attachments WHERE sealed IS NOT NULL"
    ).fetchone()[0] == 2 * submissions
    assert db.execute("SELECT COUNT(DISTINCT receipt_no) FROM submissions").fetchone()[0] == submissions
    # the receipt counter moved with the commits: sequences run 1..counter without gaps,
    # except those skipped because their check character would be '*'
    by_day: dict[str, list[ReceiptNumber]] = {}
    for (receipt_no,) in db.execute("SELECT receipt_no FROM submissions"):
        receipt = ReceiptNumber.parse(receipt_no)
        by_day.setdefault(receipt.day.isoformat(), []).append(receipt)
    for day, receipts in by_day.items():
        counter = db.execute(
            "SELECT last_sequence FROM receipt_counters WHERE day = ?", (day,)
        ).fetchone()[0]
        first = receipts[0]
        issuable = [
            s for s in range(1, counter + 1)
            if ReceiptNumber.issue(first.site_code, first.device_code, first.day, s).check != "*"
        ]
        assert sorted(r.sequence for r in receipts) == issuable, day


@pytest.mark.slow
def test_kill_9_at_random_moments_loses_no_committed_submission(enrolled: Store, data_dir: Path) -> None:
    path = database_path(data_dir)
    enrolled.close()
    rng = random.Random(20261123)
    promised: dict[str, str] = {}
    start = 0
    for _ in range(ROUNDS):
        committed = _run_and_kill(path, start, rng)
        assert committed, "the child committed nothing before it was killed"
        for receipt_no, submission_id in committed:
            assert receipt_no not in promised, f"receipt {receipt_no} was used twice"
            promised[receipt_no] = submission_id
        start += 100_000
        with open_store(path) as store:  # the restart
            _check_consistent(store)
            stored = dict(store.db.execute("SELECT receipt_no, id FROM submissions").fetchall())
            missing = {r: s for r, s in promised.items() if stored.get(r) != s}
            assert missing == {}, "a submission the terminal promised was lost"
            # at most the one commit in flight at the kill may exist unprinted
            assert len(stored) - len(promised) in (0, 1)
            promised.update(stored)
