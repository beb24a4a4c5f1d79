"""The soak at small scale: citizens through the real UI while the platform goes down and the printer fails.

The same code as ``bench/soak.py --sessions 5000`` (see docs/reliability.md, "Soak"): one
kiosk window enrolled at the real central platform (a separate process on 127.0.0.1) with
its own background sync worker; the platform is killed for three sessions and the receipt
printer's folder is broken for one. Afterwards the kiosk drains on its own.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta
from pathlib import Path

from bench.soak import Schedule, run_soak


def test_every_submission_reaches_central_exactly_once_through_an_outage_and_a_printer_failure(
    qapp, tmp_path: Path
) -> None:
    # 14 sessions; the platform is down for sessions 6-8, the printer's folder broken for session 5
    schedule = Schedule(14, outage_every=10, outage_length=3, printer_every=12, printer_length=1,
                        sample_every=4, first_sample=2)
    threads_before = Counter(t.name for t in threading.enumerate())
    result = run_soak(tmp_path, schedule, drain_timeout=120,
                      print_retry_delays=(timedelta(seconds=1), timedelta(seconds=2), timedelta(seconds=5)))

    assert (result.sessions, result.outages, result.printer_failures) == (14, 1, 1)
    # every receipt number a citizen saw was committed and is on central exactly once, same number
    assert len({r.receipt_no for r in result.shown}) == 14
    assert result.committed == result.on_central == 14
    assert (result.lost, result.duplicated, result.unexpected, result.receipt_mismatch) == ([], [], [], [])
    assert result.exactly_once
    assert result.outbox["accepted"] == 14 and result.outbox["dead"] == 0
    # the receipt that failed while the printer was out came out afterwards, and only once
    assert result.print_failed_at_once == 1 and result.printed_later == 1
    assert result.receipts_without_job == [] and result.receipts_printed_twice == []
    assert result.pdf_files == 14
    # no growth of open files or threads over the sessions (the last sample is after the drain)
    first, last = result.samples[0], result.samples[-1]
    assert last.fds <= first.fds + 2, [(s.sessions, s.fds) for s in result.samples]
    assert last.threads <= first.threads + 2, [(s.sessions, s.threads) for s in result.samples]
    assert last.qobjects == first.qobjects
    # stopped cleanly: no thread the soak started is left (Qt's pool threads Python has seen
    # are "Dummy"; threads earlier tests in this process left behind are not the soak's)
    left = Counter(t for t in result.threads_at_end if not t.startswith("Dummy")) - threads_before
    assert not left, left
