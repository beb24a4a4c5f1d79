"""kill -9 at random moments: nothing committed is lost, duplicated, or numbered twice.

A terminal process submits and syncs in a loop (the real store and engine, see
``crash_worker.py``), and real ``kiosk sync --once`` / ``kiosk submit`` commands run in
between; each is killed with SIGKILL at a random moment. After a last sync every
submission the terminal ever committed is on the platform exactly once.
"""

from __future__ import annotations

import base64
import json
import os
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from forms import Catalog
from sync.outbox import ACCEPTED
from sync.store import database_path, open_store
from tests.e2e.conftest import SERVICE_ID, Central, parse_json_output, valid_answers
from tests.support.cli import REPO, run_cli
from tests.support.killer import run_and_kill

pytestmark = pytest.mark.slow

ROUNDS = 10
WORKER = Path(__file__).with_name("crash_worker.py")


def test_kill_9_during_submits_and_syncs_loses_and_duplicates_nothing(
    tmp_path: Path, central: Central, bundled_catalog: Catalog
) -> None:
    rng = random.Random(20251123)
    terminal = tmp_path / "terminal"
    done = run_cli("enroll", "--central", central.url, "--code", central.new_code(),
                   data_dir=terminal)
    assert done.returncode == 0, done.stderr

    answers, files = valid_answers(bundled_catalog, SERVICE_ID, rng)
    spec = tmp_path / "answers.json"
    spec.write_text(json.dumps({
        "service_id": SERVICE_ID,
        "form_version": bundled_catalog.get(SERVICE_ID).version,
        "answers": answers,
        "files": [
            {"content": base64.b64encode(f.content).decode(), "mime": f.mime, "name": f.name}
            for f in files
        ],
    }))

    printed: list[str] = []  # receipts a citizen was shown (printed after the commit)
    kills = 0
    kiosk = [sys.executable, "-m", "kiosk.cli", "--data-dir", str(terminal)]
    for round_no in range(ROUNDS):
        kind = ("worker", "sync", "worker", "submit")[round_no % 4]
        if kind == "worker":
            cmd = [sys.executable, str(WORKER), str(terminal), str(spec), "20"]
            # Timed from READY: a slow start on a loaded machine must not eat the window.
            lines, killed, _ = run_and_kill(cmd, "READY", rng.uniform(0.1, 2.0))
            printed += [line.split()[2] for line in lines if line.startswith("COMMITTED ")]
        elif kind == "sync":
            _, killed, _ = run_and_kill([*kiosk, "sync", "--once", "--batch-size", "2"], None,
                                        rng.uniform(0.3, 2.0))
        else:
            lines, killed, _ = run_and_kill(
                [*kiosk, "submit", "--service", SERVICE_ID, "--example", "--json"], None,
                rng.uniform(1.0, 3.5),
            )
            if not killed and lines:
                printed.append(parse_json_output("\n".join(lines))["receipt_no"])
        kills += killed
    assert kills >= ROUNDS // 2, "the test should really kill most rounds"

    for _ in range(3):
        final = run_cli("sync", "--once", "--now", "--json", data_dir=terminal)
        report = parse_json_output(final.stdout)
        if report["pending"] == 0:
            break
    assert report["pending"] == 0 and report["dead"] == 0, report

    with open_store(database_path(terminal)) as store:
        assert store.integrity_check() == ["ok"]
        queue = store.list_queue()
        device_id = store.require_enrolment().device_id
    receipts = [e.receipt_no for e in queue]
    assert len(receipts) == len(set(receipts)), "a receipt number was used twice"
    assert set(printed) <= set(receipts), "a submission the citizen was shown is lost"
    assert all(e.state == ACCEPTED for e in queue)

    held = [s for s in central.submissions() if s["device_id"] == device_id]
    ids = Counter(s["submission_id"] for s in held)
    assert all(n == 1 for n in ids.values()), "duplicated on the platform"
    assert set(ids) == {e.submission_id for e in queue}, "committed but not delivered"
    assert len({s["receipt_no"] for s in held}) == len(held)
    assert {s["case_no"] for s in held} == {e.case_no for e in queue}
    assert len(queue) >= len(printed) > 0
    print(f"crash test: {kills} kills, {len(printed)} receipts shown, {len(queue)} committed")


def test_kills_during_enqueue_sync_and_catalog_update_lose_duplicate_and_damage_nothing() -> None:
    """The small-scale run of ``bench/crash_consistency.py`` (200 kills there, 6 here)."""
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "crash_consistency.py"), "--kills", "6",
         "--seed", "7", "--json", "--quiet"],
        capture_output=True, text=True, cwd=REPO, timeout=600, check=False,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    result = json.loads(done.stdout)
    kinds, final = result["kinds"], result["final"]
    assert sum(k["kills"] for k in kinds.values()) == 6
    assert result["catalogs_published"] >= 2  # a catalog update really was interrupted
    for kind, figures in kinds.items():
        assert figures["integrity_failures"] == 0, (kind, result["problems"])
        assert figures["lost"] == 0 and figures["duplicated"] == 0, (kind, result["problems"])
        assert figures["catalog_half"] == 0 and figures["restart_failures"] == 0, kind
    assert final["integrity"] == ["ok"]
    assert final["reported_committed"] > 0
    assert final["on_central"] == final["committed_local"] >= final["reported_committed"]
    assert final["central_lost"] == final["central_duplicates"] == final["wrong_content"] == 0
    assert final["pending"] == final["dead"] == 0 and final["catalog_recorded"]
    assert not result["failed"] and done.returncode == 0, result["problems"]
