"""The queue ticket (排队号) on an 80 mm (or 58 mm) roll.

A very large ticket number, the service, how many people are waiting ahead, the time it
was issued and a QR code of the ticket (for checking in or following the queue on a
phone), Chinese first and English smaller. Test tickets carry the TEST banner.
"""

from __future__ import annotations

from dataclasses import dataclass

from printing.data import Bilingual, TicketData
from printing.errors import PrintError
from printing.fonts import SANS
from printing.layout import Document, Flow, fit_size
from printing.paper import MM, Paper
from printing.receipt import format_datetime

TITLE = Bilingual("排队号", "Queue number")
TEST_BANNER = Bilingual("测试票 · 无效", "TEST TICKET · not valid")
L_ISSUED = Bilingual("取号时间", "Issued")
ADVICE = Bilingual(
    "请留意叫号屏幕和语音提示。\n过号请重新取号。",
    "Watch the screen and listen for your number. If you miss it, please take a new ticket.",
)


@dataclass(frozen=True)
class TicketStyle:
    """Type sizes (points) and spacing of the ticket on one roll width."""

    hall_zh: float
    hall_en: float
    label_zh: float
    label_en: float
    number_max: float
    service_zh: float
    service_en: float
    small_zh: float
    small_en: float
    gap: float
    qr_mm: float


TICKET_STYLES: dict[str, TicketStyle] = {
    "80mm": TicketStyle(13, 8.5, 12, 9, 72, 16, 10, 10, 8, 9, 26),
    "58mm": TicketStyle(11, 7.5, 10.5, 8, 56, 13, 8.5, 9, 7, 7, 24),
}


def waiting_text(ahead: int) -> Bilingual:
    """``您前面还有 5 人`` / ``5 people ahead of you`` (and the words for 0 and 1)."""
    if ahead == 0:
        return Bilingual("您是下一位", "You are next")
    if ahead == 1:
        return Bilingual("您前面还有 1 人", "1 person ahead of you")
    return Bilingual(f"您前面还有 {ahead} 人", f"{ahead} people ahead of you")


def layout_ticket(data: TicketData, paper: Paper) -> Document:
    """Lay out the ticket for a roll ``paper``.

    Raises:
        PrintError: ``paper`` is not a roll (tickets come from the kiosk's roll printer).
    """
    style = TICKET_STYLES.get(paper.name)
    if style is None:
        raise PrintError(f"queue tickets are printed on 80mm or 58mm rolls, not {paper.name}")
    flow = Flow(paper.content_width_pt)
    gap = style.gap

    def banner() -> None:
        def build(inner: Flow) -> None:
            inner.text(TEST_BANNER.zh, style.service_zh, bold=True, align="center", white=True)
            inner.text(TEST_BANNER.en, style.service_en, align="center", white=True)

        flow.group(build, padding=gap * 0.6, filled=True)

    if data.is_test:
        banner()
        flow.space(gap)
    flow.text(data.hall_name.zh, style.hall_zh, align="center", bold=True)
    flow.text(data.hall_name.en, style.hall_en, align="center")
    flow.rule(gap=gap * 0.6)
    flow.pair(TITLE.zh, TITLE.en, style.label_zh, style.label_en, align="center")
    size = fit_size(data.ticket_no, SANS, flow.width, style.number_max, 24, bold=True)
    flow.text(data.ticket_no, size, align="center", bold=True, leading=1.1)
    flow.text(data.service_name.zh, style.service_zh, align="center", bold=True)
    flow.text(data.service_name.en, style.service_en, align="center")
    flow.space(gap)
    waiting = waiting_text(data.waiting_ahead)

    def waiting_box(inner: Flow) -> None:
        inner.text(waiting.zh, style.service_zh, align="center")
        inner.text(waiting.en, style.service_en, align="center")
        if data.window is not None:
            inner.space(gap * 0.3)
            inner.text(data.window.zh, style.label_zh, align="center")
            inner.text(data.window.en, style.label_en, align="center")

    flow.group(waiting_box, padding=gap * 0.6, frame=1.2)
    flow.space(gap)
    flow.qr(data.qr_text, style.qr_mm * MM)
    flow.space(gap * 0.5)
    issued = format_datetime(data.issued_at)
    flow.pair(f"{L_ISSUED.zh} {issued.zh}", f"{L_ISSUED.en} {issued.en}", style.small_zh, style.small_en,
              align="center")
    flow.rule(dashed=True, thickness=0.6, gap=gap * 0.6)
    flow.text(ADVICE.zh, style.small_zh, align="center")
    flow.text(ADVICE.en, style.small_en, align="center")
    if data.is_test:
        flow.space(gap)
        banner()
    return flow.finish(paper, f"{TITLE.zh} {data.ticket_no}")
