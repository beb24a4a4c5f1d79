"""The daily summary as an A4 PDF, in Chinese and English, with the shipped CJK font embedded."""

from __future__ import annotations

from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from printing.fonts import SANS, register_fonts
from sync.report import DailySummary

_MARGIN = 18 * mm
_LINE = 6.5 * mm


def _seconds(value: float | None) -> str:
    if value is None:
        return "—"
    minutes, seconds = divmod(round(value), 60)
    return f"{minutes}:{seconds:02d}"


def write_daily_pdf(summary: DailySummary, path: Path) -> None:
    """Draw ``summary`` on A4 pages at ``path`` (a table per section, new page when full)."""
    register_fonts()
    path.parent.mkdir(parents=True, exist_ok=True)
    canvas = Canvas(str(path), pagesize=A4, pageCompression=1)
    canvas.setTitle(f"Daily summary {summary.day.isoformat()}")
    _width, height = A4
    y = height - _MARGIN

    def line(text: str, *, size: float = 10.5, x: float = _MARGIN, gap: float = _LINE) -> None:
        nonlocal y
        if y < _MARGIN + gap:
            canvas.showPage()
            y = height - _MARGIN
        canvas.setFont(SANS, size)
        canvas.drawString(x, y, text)
        y -= gap

    def row(cells: list[str], columns: list[float]) -> None:
        nonlocal y
        if y < _MARGIN + _LINE:
            canvas.showPage()
            y = height - _MARGIN
        canvas.setFont(SANS, 10)
        for cell, x in zip(cells, columns, strict=True):
            canvas.drawString(_MARGIN + x, y, cell)
        y -= _LINE

    line("每日业务汇总 Daily summary", size=16, gap=9 * mm)
    line(f"日期 Date: {summary.day.isoformat()}    大厅 Hall: {summary.site_code}    "
         f"终端 Terminal: {summary.device_code}")
    line(f"生成时间 Generated: {summary.generated_at.astimezone():%Y-%m-%d %H:%M}", gap=9 * mm)
    line(f"办件总数 Submissions: {summary.total}    代办 On behalf: {summary.on_behalf}    "
         f"平均用时 Average session: {_seconds(summary.average_session_seconds)}")
    line(f"排队取号 Tickets: {summary.tickets}    预约签到 Appointment check-ins: "
         f"{summary.appointment_checkins}    测试 Tests (excluded): {summary.tests}", gap=9 * mm)

    columns = [0, 95 * mm, 125 * mm, 150 * mm]
    line("按事项 By service", size=12, gap=7 * mm)
    row(["事项 Service", "件数 Count", "代办 Agent", "平均用时 Avg"], columns)
    for item in summary.by_service:
        row([f"{item.name_zh} {item.name_en}"[:48], str(item.count), str(item.on_behalf),
             _seconds(item.average_session_seconds)], columns)
    if not summary.by_service:
        line("（无 none）")
    y -= 3 * mm
    line("按结果 By outcome", size=12, gap=7 * mm)
    labels = {"sent": "已送达 sent", "waiting": "待发送 waiting", "dead": "被拒收 dead",
              "cancelled": "已撤销 cancelled"}
    for outcome, count in summary.by_outcome.items():
        row([labels.get(outcome, outcome), str(count), "", ""], columns)
    if summary.by_agent:
        y -= 3 * mm
        line("按工作人员（代办） By agent", size=12, gap=7 * mm)
        for agent, count in sorted(summary.by_agent.items()):
            row([agent, str(count), "", ""], columns)
    canvas.showPage()
    canvas.save()
