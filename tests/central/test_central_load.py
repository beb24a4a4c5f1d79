"""The load test (``bench/bench_central_load.py``) at a small scale, on both databases:
terminals syncing at once, every submission on the platform exactly once."""

from __future__ import annotations

import pytest

from bench.bench_central_load import main as load_test
from tests.support.postgres import PostgresCluster

pytestmark = pytest.mark.slow


def test_terminals_syncing_at_once_deliver_every_submission_exactly_once(
    postgres_cluster: PostgresCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    status = load_test(["--terminals", "8", "--backlog", "3", "--batch-size", "2", "--time-limit", "120"])

    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith(("| sqlite", "| postgres"))]
    assert status == 0, out
    # the exactly-once table: queued, accepted, on platform, duplicates, lost, differs, success
    checks = [[cell.strip() for cell in row.split("|")[1:-1]] for row in rows if row.endswith("% |")]
    assert [c[0] for c in checks] == ["sqlite", "postgres"]
    for backend, queued, accepted, on_platform, duplicates, lost, differs, success in checks:
        assert (queued, accepted, on_platform) == ("24", "24", "24"), backend
        assert (duplicates, lost, differs, success) == ("0", "0", "0", "100.0%"), backend
