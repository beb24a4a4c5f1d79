"""The sync fault matrix at small scale: ``bench/fault_matrix.py`` loses and duplicates nothing.

The bench starts its own platform (on SQLite) and terminals, so this module does not take
the database parametrisation of ``test_e2e_faults.py``.
"""

from __future__ import annotations

import pytest

from tests.support.faultproxy import FAULT_MODES

pytestmark = pytest.mark.slow


def test_fault_matrix_small_scale_loses_and_duplicates_nothing() -> None:
    """The small run of ``bench/fault_matrix.py``: every mode, mixed, restarts, disk full."""
    import json
    import os
    import subprocess
    import sys

    from tests.support.cli import REPO

    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "fault_matrix.py"), "--items", "4",
         "--restarts", "1", "--fault-cycles", "2", "--json"],
        capture_output=True, text=True, cwd=REPO, timeout=600, check=False,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    result = json.loads(done.stdout)
    rows = {row["fault"].split()[0]: row for row in result["rows"]}
    assert {m.value for m in FAULT_MODES} <= set(rows)
    assert {"mixed", "central", "disk"} <= set(rows)
    for name, row in rows.items():
        if row["note"].startswith("not run"):  # no tmpfs mount permitted here
            continue
        assert row["sent"] > 0 and row["on_central"] == row["sent"], (name, row)
        assert row["lost"] == 0 and row["duplicates"] == 0 and not row["errors"], (name, row)
    assert rows["http_500"]["faulted_requests"] > 0
    assert not result["failed"] and done.returncode == 0
