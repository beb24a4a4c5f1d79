"""The submission receipt (受理回执) on an 80 mm roll, a 58 mm roll or A4.

The receipt is the citizen's proof, reminder and key: hall, service, a large receipt
number, masked applicant details, the time limit and expected completion date, what to
bring, a QR code of the receipt number for status look-up at any kiosk, and a privacy
line. Every line is Chinese first and English smaller below or beside it. Test receipts
carry a black TEST banner at the top and the bottom.

The QR code holds the receipt number exactly as printed (``SZ01-K7M-261123-00042-H``); any
kiosk's scanner reads it and looks the case up (``sync.receipt.ReceiptNumber.parse``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from printing import fonts
from printing.data import Bilingual, ReceiptData
from printing.fonts import MONO, SANS
from printing.layout import Document, Flow, TextItem, fit_size
from printing.paper import MM, Paper

TITLE = Bilingual("受理回执", "Application Receipt")
TEST_BANNER = Bilingual("测试凭条 · 非正式受理", "TEST RECEIPT · not a real application")
REPRINT = Bilingual("补打", "Reprint")
L_RECEIPT_NO = Bilingual("受理编号", "Receipt number")
L_SERVICE = Bilingual("办理事项", "Service")
L_APPLICANT = Bilingual("申请人", "Applicant")
L_ID = Bilingual("证件号码", "ID number")
L_SUBMITTED = Bilingual("提交时间", "Submitted")
L_TIME_LIMIT = Bilingual("办理时限", "Time limit")
L_EXPECTED = Bilingual("预计办结", "Expected completion")
L_BRING = Bilingual("请携带以下材料到窗口", "Please bring to the window")
L_WHERE = Bilingual("办理地点", "Where")
L_PHONE = Bilingual("咨询电话", "Enquiries")
SUBJECT_TO_NOTICE = Bilingual("（以实际通知为准）", "(subject to notice)")
HOW_TO_CHECK = Bilingual(
    "扫描上方二维码，或在任一自助终端输入受理编号，即可查询办理进度。",
    "Scan the QR code above, or enter the receipt number at any kiosk, to check progress.",
)
HOW_TO_CHECK_SHEET = Bilingual(
    "扫描受理编号旁的二维码，或在任一自助终端输入受理编号，即可查询办理进度。",
    "Scan the QR code beside the receipt number, or enter the number at any kiosk, to check progress.",
)
PRIVACY = Bilingual(
    "为保护您的隐私，本回执仅显示部分个人信息。请妥善保管，办结前请勿丢弃。",
    "To protect your privacy, only part of your personal data is shown. "
    "Keep this receipt until your application is complete.",
)
L_PRINTED = Bilingual("打印时间", "Printed")

NUMBER_FLOOR = 9.0  # the receipt number shrinks to this rather than break inside a group


@dataclass(frozen=True)
class Style:
    """Type sizes (points) and spacing for one paper."""

    hall_zh: float
    hall_en: float
    title_zh: float
    title_en: float
    label_zh: float
    label_en: float
    value_zh: float
    value_en: float
    small_zh: float
    small_en: float
    number_max: float
    number_min: float  # below this the number is split over two lines
    section_gap: float
    qr_mm: float
    label_column_mm: float = 0.0  # sheets: labels in a column left of their values


STYLES: dict[str, Style] = {
    "80mm": Style(14, 9, 21, 10.5, 10.5, 8.5, 14, 9.5, 9.5, 8, 30, 20, 9, 32),
    "58mm": Style(12, 8, 18, 9, 9.5, 7.5, 12, 8.5, 8.5, 7, 24, 17, 7, 28),
    "a4": Style(16, 10.5, 24, 12, 11, 9, 14, 10.5, 10, 8.5, 34, 24, 7, 34, label_column_mm=40),
}


def format_datetime(moment: datetime) -> Bilingual:
    """``2026年11月23日 10:30`` / ``23 Nov 2026, 10:30`` in the time's own zone."""
    return Bilingual(
        f"{moment.year}年{moment.month}月{moment.day}日 {moment:%H:%M}",
        f"{moment.day} {moment:%b %Y, %H:%M}",
    )


def format_date(day: date) -> Bilingual:
    """``2026年12月7日`` / ``7 Dec 2026``."""
    return Bilingual(f"{day.year}年{day.month}月{day.day}日", f"{day.day} {day:%b %Y}")


def _number_lines(number: str, width: float, style: Style) -> tuple[list[str], float]:
    """The receipt number as one line, or split at a dash into two, at the largest size that fits."""
    size = fit_size(number, MONO, width, style.number_max, style.number_min, bold=True)
    if fonts.text_width(number, MONO, size, bold=True) <= width:
        return [number], size
    dashes = [i for i, ch in enumerate(number) if ch == "-"]
    if not dashes:
        return [number], size  # wraps by characters in Flow.text
    middle = len(number) / 2
    cut = min(dashes, key=lambda i: abs(i - middle))
    lines = [number[: cut + 1], number[cut + 1 :]]
    longest = max(lines, key=lambda s: fonts.text_width(s, MONO, style.number_max, bold=True))
    return lines, fit_size(longest, MONO, width, style.number_max, NUMBER_FLOOR, bold=True)


def _banner(flow: Flow, text: Bilingual, style: Style) -> None:
    def build(inner: Flow) -> None:
        inner.text(text.zh, style.value_zh, bold=True, align="center", white=True)
        inner.text(text.en, style.value_en, align="center", white=True)

    flow.group(build, padding=style.section_gap * 0.6, filled=True)


def _field(
    flow: Flow,
    label: Bilingual,
    values: Sequence[Bilingual | str],
    style: Style,
    *,
    font: str = SANS,
    bold: bool = False,
    note: Bilingual | None = None,
) -> None:
    """A label (small) and its values (large, English smaller below each), kept together.

    Rolls put the label above the values; sheets put it in a column to their left.
    ``note`` is a small remark under the values.
    """

    def values_block(inner: Flow) -> None:
        for value in values:
            if isinstance(value, str):
                inner.text(value or "—", style.value_zh, font=font, bold=bold, leading=1.25)
                continue
            inner.text(value.zh, style.value_zh, font=font, bold=bold, leading=1.25)
            if value.en and value.en != value.zh:
                inner.text(value.en, style.value_en, font=font)
        if note is not None:
            inner.pair(note.zh, note.en, style.label_zh, style.label_en)

    if style.label_column_mm and flow.width > style.label_column_mm * MM * 3:

        def label_block(inner: Flow) -> None:
            inner.space((style.value_zh - style.label_zh) * 0.6)  # share the value's first baseline
            inner.text(label.zh, style.label_zh)
            inner.text(label.en, style.label_en)

        flow.columns((style.label_column_mm * MM, label_block), (0, values_block), gap=style.section_gap)
    else:

        def build(inner: Flow) -> None:
            inner.pair(label.zh, label.en, style.label_zh, style.label_en)
            values_block(inner)

        flow.group(build)
    flow.space(style.section_gap * 0.6)


def layout_receipt(
    data: ReceiptData,
    paper: Paper,
    *,
    printed_at: datetime | None = None,
    reprint: bool = False,
) -> Document:
    """Lay out the receipt for ``paper``; ``reprint`` marks a copy printed again by staff."""
    style = STYLES[paper.name]
    flow = Flow(paper.content_width_pt, page_height=None if paper.is_roll else _sheet_height(paper))
    gap = style.section_gap

    if data.is_test:
        _banner(flow, TEST_BANNER, style)
        flow.space(gap)

    flow.text(data.hall_name.zh, style.hall_zh, align="center", bold=True)
    flow.text(data.hall_name.en, style.hall_en, align="center")
    flow.space(gap * 0.6)
    flow.text(TITLE.zh, style.title_zh, align="center", bold=True, leading=1.2)
    flow.text(TITLE.en, style.title_en, align="center")
    flow.space(gap * 0.6)

    sheet = not paper.is_roll
    qr_size = style.qr_mm * MM
    number_width = paper.content_width_pt - (qr_size + gap if sheet else 0.0)
    lines, size = _number_lines(data.receipt_no, number_width - 2 * gap * 0.8 - 4, style)

    def number_box(inner: Flow) -> None:
        def build(box: Flow) -> None:
            box.pair(L_RECEIPT_NO.zh, L_RECEIPT_NO.en, style.label_zh, style.label_en, align="center")
            box.space(gap * 0.3)
            for line in lines:
                box.text(line, size, font=MONO, bold=True, align="center", leading=1.15)

        inner.group(build, padding=gap * 0.8, frame=1.6)

    if sheet:  # A4: the QR code beside the number, where the eye already is
        flow.columns((0, number_box), (qr_size, lambda col: col.qr(data.receipt_no, qr_size)), gap=gap)
    else:
        number_box(flow)
    flow.space(gap * 1.2)

    def who(col: Flow) -> None:
        _field(col, L_SERVICE, [data.service_name], style, bold=True)
        _field(col, L_APPLICANT, [data.applicant_name], style)
        _field(col, L_ID, [data.id_number], style, font=MONO)

    def when(col: Flow) -> None:
        _field(col, L_SUBMITTED, [format_datetime(data.submitted_at)], style)
        limits = _time_limit_lines(data)
        if limits:
            _field(col, L_TIME_LIMIT, limits, style)
        if data.expected_completion is not None:
            _field(col, L_EXPECTED, [format_date(data.expected_completion)], style, bold=True, note=SUBJECT_TO_NOTICE)

    if sheet:  # A4: who on the left, when on the right
        half = (paper.content_width_pt - 2 * gap) / 2
        flow.columns((half, who), (half, when), gap=2 * gap)
    else:
        who(flow)
        when(flow)

    if data.materials_to_bring:
        flow.rule(gap=gap * 0.6)
        flow.pair(L_BRING.zh, L_BRING.en, style.label_zh, style.label_en)
        flow.space(gap * 0.3)
        for n, material in enumerate(data.materials_to_bring, 1):
            _numbered(flow, n, material, style)
    if data.where is not None:
        flow.space(gap * 0.3)
        _field(flow, L_WHERE, [data.where], style)
    if data.note is not None:
        flow.text(data.note.zh, style.value_zh * 0.85)
        flow.text(data.note.en, style.value_en * 0.9)
        flow.space(gap * 0.5)

    flow.rule(gap=gap * 0.6)
    if not sheet:
        flow.qr(data.receipt_no, qr_size)
        # the number once more on one line, as the QR code holds it
        flow.text(data.receipt_no, style.label_zh, font=MONO, align="center")
        flow.space(gap * 0.5)
    flow.text(HOW_TO_CHECK.zh if not sheet else HOW_TO_CHECK_SHEET.zh, style.small_zh + 0.5, align="center")
    flow.text(HOW_TO_CHECK.en if not sheet else HOW_TO_CHECK_SHEET.en, style.small_en, align="center")
    if data.contact_phone:
        flow.space(gap * 0.3)
        flow.pair(f"{L_PHONE.zh} {data.contact_phone}", L_PHONE.en, style.small_zh + 0.5, style.small_en,
                  align="center")

    flow.rule(dashed=True, thickness=0.6, gap=gap * 0.6)
    flow.text(PRIVACY.zh, style.small_zh)
    flow.text(PRIVACY.en, style.small_en)
    if printed_at is not None or reprint:
        flow.space(gap * 0.4)
        parts_zh = [REPRINT.zh] if reprint else []
        parts_en = [REPRINT.en] if reprint else []
        if printed_at is not None:
            when = format_datetime(printed_at)
            parts_zh.append(f"{L_PRINTED.zh} {when.zh}")
            parts_en.append(f"{L_PRINTED.en} {when.en}")
        flow.pair(" · ".join(parts_zh), " · ".join(parts_en), style.small_zh, style.small_en)

    if data.is_test:
        flow.space(gap)
        _banner(flow, TEST_BANNER, style)
    return flow.finish(paper, f"{TITLE.zh} {data.receipt_no}")


def _time_limit_lines(data: ReceiptData) -> list[Bilingual]:
    lines: list[Bilingual] = []
    if data.legal_working_days is not None:
        n = data.legal_working_days
        lines.append(Bilingual(f"法定 {n} 个工作日", f"{n} working days by law"))
    if data.promised_working_days is not None and data.promised_working_days != data.legal_working_days:
        n = data.promised_working_days
        lines.append(Bilingual(f"承诺 {n} 个工作日", f"{n} working days promised"))
    return lines


def _numbered(flow: Flow, n: int, material: Bilingual, style: Style) -> None:
    marker = f"{n}."
    hang = fonts.text_width("00.", SANS, style.value_zh) + 2

    def build(inner: Flow) -> None:
        start = len(inner.items)
        inner.text(material.zh, style.value_zh * 0.93, indent=hang, leading=1.25)
        first = inner.items[start]
        inner.items.append(TextItem(0.0, first.y, marker, SANS, style.value_zh * 0.93))
        if material.en and material.en != material.zh:
            inner.text(material.en, style.value_en, indent=hang)

    flow.group(build)
    flow.space(style.section_gap * 0.3)


def _sheet_height(paper: Paper) -> float:
    assert paper.height_pt is not None
    return paper.height_pt - 2 * paper.top_margin_pt
