"""The daily summary of a terminal: what was submitted, how it fared, how long it took.

Built from the clear summaries and outbox states only (never sealed data): counts by
service, by outcome (the outbox state: sent, waiting, dead, cancelled), submissions made
on a citizen's behalf, queue tickets issued, and the average session time where the
screen recorded it (``session_seconds`` in the summary). :func:`write_csv` writes it for a
spreadsheet; ``printing.daily_report`` draws the PDF.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sync.store import Store
from sync.store_common import to_db_time

# Outbox states as the report names them.
OUTCOMES = {"pending": "waiting", "sending": "waiting", "accepted": "sent", "dead": "dead",
            "cancelled": "cancelled"}


@dataclass(frozen=True)
class ServiceLine:
    """One service's line in the daily summary."""

    service_id: str
    name_zh: str
    name_en: str
    count: int
    on_behalf: int
    average_session_seconds: float | None


@dataclass(frozen=True)
class DailySummary:
    """The figures of one local day at this terminal."""

    day: date
    site_code: str
    device_code: str
    total: int
    by_service: tuple[ServiceLine, ...]
    by_outcome: dict[str, int]
    on_behalf: int
    tests: int
    tickets: int
    appointment_checkins: int
    average_session_seconds: float | None
    generated_at: datetime
    by_agent: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {
            "day": self.day.isoformat(),
            "site_code": self.site_code,
            "device_code": self.device_code,
            "total": self.total,
            "by_service": [line.__dict__ for line in self.by_service],
            "by_outcome": self.by_outcome,
            "on_behalf": self.on_behalf,
            "by_agent": self.by_agent,
            "tests": self.tests,
            "tickets": self.tickets,
            "appointment_checkins": self.appointment_checkins,
            "average_session_seconds": self.average_session_seconds,
            "generated_at": self.generated_at.isoformat(),
        }


def _day_bounds(day: date) -> tuple[str, str]:
    """The local day as a UTC text range for the store's time columns."""
    start = datetime.combine(day, time.min).astimezone()
    return to_db_time(start), to_db_time(start + timedelta(days=1))


def daily_summary(store: Store, day: date, *, now: datetime) -> DailySummary:
    """The summary of the terminal's local day ``day`` (test submissions counted apart)."""
    start, end = _day_bounds(day)
    enrolment = store.enrolment()
    with store.reading() as db:
        rows = db.execute(
            "SELECT s.service_id, s.summary, s.is_test, o.state, s.agent_id FROM submissions s "
            "JOIN outbox o ON o.submission_id = s.id WHERE s.created_at >= ? AND s.created_at < ?",
            (start, end),
        ).fetchall()
        ticket_rows = db.execute(
            "SELECT kind, COUNT(*) FROM checkins WHERE day = ? GROUP BY kind", (day.isoformat(),)
        ).fetchall()
    outcomes: Counter[str] = Counter(dict.fromkeys(("sent", "waiting", "dead", "cancelled"), 0))
    per_service: dict[str, dict[str, Any]] = {}
    agents: Counter[str] = Counter()
    sessions: list[float] = []
    tests = 0
    for service_id, summary_json, is_test, state, agent_id in rows:
        if is_test:
            tests += 1
            continue
        summary = json.loads(summary_json)
        names = summary.get("service_name") or {}
        line = per_service.setdefault(service_id, {"names": names, "count": 0, "on_behalf": 0, "sessions": []})
        line["count"] += 1
        outcomes[OUTCOMES.get(state, state)] += 1
        if agent_id:
            line["on_behalf"] += 1
            agents[agent_id] += 1
        seconds = summary.get("session_seconds")
        if isinstance(seconds, int | float):
            line["sessions"].append(float(seconds))
            sessions.append(float(seconds))
    lines = tuple(
        ServiceLine(
            service_id=service_id,
            name_zh=str(data["names"].get("zh_CN", service_id)),
            name_en=str(data["names"].get("en", service_id)),
            count=data["count"],
            on_behalf=data["on_behalf"],
            average_session_seconds=_mean(data["sessions"]),
        )
        for service_id, data in sorted(per_service.items(), key=lambda kv: (-kv[1]["count"], kv[0]))
    )
    tickets = dict(ticket_rows)
    return DailySummary(
        day=day,
        site_code=enrolment.site_code if enrolment else "",
        device_code=enrolment.device_code if enrolment else "",
        total=sum(line.count for line in lines),
        by_service=lines,
        by_outcome=dict(outcomes),
        on_behalf=sum(agents.values()),
        by_agent=dict(agents),
        tests=tests,
        tickets=sum(tickets.values()),
        appointment_checkins=tickets.get("appointment", 0),
        average_session_seconds=_mean(sessions),
        generated_at=now,
    )


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


def write_csv(summary: DailySummary, path: Path) -> None:
    """The summary as CSV (UTF-8 with BOM, so spreadsheet programs show Chinese correctly).

    One row per figure: ``section, key, name_zh, name_en, count, on_behalf, avg_session_s``.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["section", "key", "name_zh", "name_en", "count", "on_behalf", "avg_session_s"])
        out.writerow(["day", summary.day.isoformat(), summary.site_code, summary.device_code,
                      summary.total, summary.on_behalf, _text(summary.average_session_seconds)])
        for line in summary.by_service:
            out.writerow(["service", line.service_id, line.name_zh, line.name_en, line.count,
                          line.on_behalf, _text(line.average_session_seconds)])
        for outcome, count in summary.by_outcome.items():
            out.writerow(["outcome", outcome, "", "", count, "", ""])
        for agent, count in sorted(summary.by_agent.items()):
            out.writerow(["agent", agent, "", "", count, count, ""])
        out.writerow(["tickets", "all", "", "", summary.tickets, "", ""])
        out.writerow(["tickets", "appointment", "", "", summary.appointment_checkins, "", ""])
        out.writerow(["tests", "excluded", "", "", summary.tests, "", ""])


def _text(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"
