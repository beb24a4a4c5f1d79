"""Submissions on a citizen's behalf, ratings, help requests and the daily report, end to end."""

from __future__ import annotations

import csv
import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sync.audit import list_entries
from sync.checkin import take_ticket
from sync.client import CentralClient
from sync.hall_sync import raise_help_request
from sync.protocol import SubmissionItem, b64encode
from sync.report import daily_summary, write_csv
from sync.sealing import open_sealed
from tests.hall.conftest import SITE, Central, Terminal

# the platform's database: each test runs on SQLite and on PostgreSQL
pytestmark = pytest.mark.parametrize("central_database", ["sqlite", "postgres"], indirect=True, scope="module")


def test_submission_on_behalf_records_the_agent_end_to_end(central: Central, terminal: Terminal) -> None:
    queued = terminal.submit_test(agent_id="agent7")
    assert queued.summary.agent_id == "agent7"
    entry = terminal.store.find(queued.submission_id)
    assert entry.summary.agent_id == "agent7"
    audit = terminal.store.audit_entries(queued.submission_id)
    assert [(a.action, a.actor) for a in audit] == [("submit-on-behalf", "agent7")]
    # The agent is sealed into the payload together with the answers.
    keys_dir = central.data_dir / "keys"
    with terminal.store.reading() as db:
        sealed = db.execute("SELECT sealed_payload FROM submissions WHERE id = ?",
                            (queued.submission_id,)).fetchone()[0]
    plain = json.loads(open_sealed((keys_dir / "sealing.key").read_bytes(), sealed,
                                   context=queued.submission_id.encode()))
    assert plain["meta"] == {"agent_id": "agent7"}
    report = terminal.sync()
    assert report.pushed == 1, report.errors
    shown = central.json("submissions", "show", queued.receipt_no)
    assert shown["agent_id"] == "agent7"
    # A citizen's own submission carries no agent.
    own = terminal.submit_test()
    terminal.sync()
    assert central.json("submissions", "show", own.receipt_no)["agent_id"] is None


def test_platform_refuses_an_agent_on_the_wire_that_differs_from_the_sealed_one(
    central: Central, terminal: Terminal
) -> None:
    queued = terminal.submit_test(agent_id="agent7")
    item = terminal.store.claim_batch(1)[0]
    wire = SubmissionItem(
        submission_id=item.submission_id, service_id=item.service_id, form_version=item.form_version,
        receipt_no=item.receipt_no, created_at=item.created_at, is_test=True,
        sealed_payload=b64encode(item.sealed_payload), attachments=list(item.attachment_sha256s),
        agent_id="someone-else",
    )
    with terminal.client() as client:
        result = client.push_batch([wire]).results[0]
    assert result.status == "rejected" and "agent_id" in (result.detail or "")
    assert queued.submission_id == item.submission_id


def test_ratings_sync_once_and_are_summarised(central: Central, terminal: Terminal) -> None:
    store = terminal.store
    store.record_rating("residence-permit", 5)
    store.record_rating("residence-permit", 4)
    store.record_rating("residence-permit", 1, tags=["waited_too_long", "staff_attitude"])
    store.record_rating("birth-registration", 2, tags=["waited_too_long"])
    terminal.sync()
    with store.transaction() as db:  # lost answer: all of them are sent again
        db.execute("UPDATE ratings SET synced_at = NULL")
    terminal.sync()
    with store.reading() as db:
        assert db.execute("SELECT COUNT(*) FROM ratings WHERE synced_at IS NULL").fetchone()[0] == 0
    summary = central.json("ratings", "summary", "--site", SITE)
    assert summary["total"] == 4
    assert summary["by_score"] == {"1": 1, "2": 1, "3": 0, "4": 1, "5": 1}
    assert summary["by_service"]["residence-permit"] == {"count": 3, "average": 3.33}
    assert summary["low_rating_reasons"] == {"waited_too_long": 2, "staff_attitude": 1}
    text = central.cli("ratings", "summary")
    assert "ratings: 4" in text.stdout and "waited_too_long (2)" in text.stdout


def test_help_request_reaches_the_halls_agent_stations(central: Central, make_terminal) -> None:  # type: ignore[no-untyped-def]
    kiosk, station = make_terminal(), make_terminal()
    elsewhere = make_terminal(site="XY02")
    with kiosk.client() as client:
        raised = raise_help_request(kiosk.store, client)
    assert raised.delivered
    with station.client() as client:
        open_requests = client.open_help_requests()
        assert [r.request_id for r in open_requests] == [raised.request_id]
        assert open_requests[0].device_code == kiosk.store.require_enrolment().device_code
        taken = client.acknowledge_help_request(raised.request_id, "agent1")
        assert taken.state == "acknowledged" and taken.acknowledged_by == "agent1"
        assert client.open_help_requests() == []
    with elsewhere.client() as client:
        assert client.open_help_requests() == []


def test_help_request_offline_says_not_delivered(terminal: Terminal, tmp_path: Path) -> None:
    token = terminal.store.require_enrolment().token
    with CentralClient("http://127.0.0.1:9", token=token, connect_timeout=1.0, read_timeout=1.0) as client:
        raised = raise_help_request(terminal.store, client)
    assert not raised.delivered and raised.error
    assert not raise_help_request(terminal.store, None).delivered


def test_daily_summary_counts_by_service_outcome_and_agent(terminal: Terminal, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    store = terminal.store
    definition = terminal.catalog.get("residence-permit")
    terminal.submit_test()  # a test submission: counted apart
    # Real submissions: the example answers, turned into non-test submissions.
    for agent, seconds in ((None, 120.0), ("agent7", 300.0), (None, None)):
        made = terminal.submit_test(agent_id=agent)
        with store.transaction() as db:
            db.execute("UPDATE submissions SET is_test = 0, summary = json_set(summary, '$.is_test', json('false'))"
                       + (", summary = json_set(summary, '$.session_seconds', ?)" if seconds else "")
                       + " WHERE id = ?", ((seconds, made.submission_id) if seconds else (made.submission_id,)))
    dead = store.list_queue()[-1]
    store.mark_dead(dead.submission_id, "answers_invalid")
    take_ticket(store, "housing", "D")
    summary = daily_summary(store, now.astimezone().date(), now=now)
    assert summary.total == 3 and summary.tests == 1
    assert summary.by_outcome == {"sent": 0, "waiting": 2, "dead": 1, "cancelled": 0}
    assert summary.by_agent == {"agent7": 1} and summary.on_behalf == 1
    assert summary.average_session_seconds == 210.0
    assert summary.by_service[0].name_zh == definition.name.zh_CN
    assert summary.tickets == 1
    path = tmp_path / "daily.csv"
    write_csv(summary, path)
    rows = list(csv.reader(path.open(encoding="utf-8-sig")))
    assert ["outcome", "dead", "", "", "1", "", ""] in rows
    assert any(r[0] == "service" and r[2] == definition.name.zh_CN and r[4] == "3" for r in rows)


def test_daily_report_cli_writes_csv_and_a_pdf_with_chinese_text(terminal: Terminal, tmp_path: Path) -> None:
    from tests.support.cli import run_cli

    terminal.submit_test(agent_id="agent7")
    data_dir = terminal.data_dir
    terminal.store.close()
    pdf, csv_path = tmp_path / "daily.pdf", tmp_path / "daily.csv"
    done = run_cli("report", "daily", "--csv", str(csv_path), "--pdf", str(pdf), data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    assert csv_path.read_text("utf-8-sig").startswith("section,key")
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "每日业务汇总" in text and "Daily summary" in text
    bad = run_cli("report", "daily", "--date", "yesterday", data_dir=data_dir)
    assert bad.returncode == 1 and "--date" in bad.stderr


def test_audit_records_reprint_style_events_with_actor(terminal: Terminal) -> None:
    terminal.store.audit("reprint", actor="agent1", detail="receipt 1 job 1 -> job 2")
    assert list_entries(terminal.store)[-1].actor == "agent1"


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_hall_cli_checkin_prints_the_ticket_or_the_refusal(
    central: Central, terminal: Terminal, language: str
) -> None:
    from tests.support.cli import run_cli

    soon = (datetime.now(UTC) + timedelta(minutes=10)).isoformat(timespec="minutes")
    token = central.appointment(soon)["token"]
    data_dir = terminal.data_dir
    terminal.store.close()
    done = run_cli("hall", "checkin", token, "--json", data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["ticket_no"] == "Y001"
    again = run_cli("hall", "checkin", token, "--json", "--language", language, data_dir=data_dir)
    refused = json.loads(again.stdout)
    assert again.returncode == 1 and refused["kind"] == "used"
    assert ("已签到" in refused["message"]) == (language == "zh_CN")
