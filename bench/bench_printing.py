"""Benchmark: render a receipt as a PDF and as an ESC/POS raster, against plain baselines.

    .venv/bin/python bench/bench_printing.py [--count 100] [--append docs/benchmarks.md] [--renders docs]

Measured in the same run:

* receipt PDF (80 mm): layout (wrapping, QR) + reportlab with the CJK font embedded,
  against a baseline of a plain reportlab page drawing the same lines of text with the same
  embedded font and no layout, rules or QR code;
* ESC/POS raster (80 mm, 576 dots): layout + Pillow drawing + 1-bit conversion + the
  ``GS v 0`` bytes python-escpos produces (Dummy printer), against a baseline of Pillow
  drawing the same lines on a 576-dot image.

``--renders DIR`` also writes the sample renders used in the docs (``receipt-80mm.png``,
``receipt-58mm.png``, ``receipt-a4.png``, ``ticket-80mm.png``; via ``pdftoppm``).
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from escpos.printer import Dummy  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402
from reportlab.pdfgen.canvas import Canvas  # noqa: E402

from printing import (  # noqa: E402
    A4,
    ROLL_58MM,
    ROLL_80MM,
    Bilingual,
    ReceiptData,
    TicketData,
    fonts,
)
from printing.escpos_connection import EscposConnection  # noqa: E402
from printing.escpos_printer import EscposPrinter  # noqa: E402
from printing.layout import TextItem  # noqa: E402
from printing.receipt import layout_receipt  # noqa: E402
from printing.render_pdf import render_pdf  # noqa: E402
from printing.render_raster import render_raster  # noqa: E402
from printing.ticket import layout_ticket  # noqa: E402

CST = timezone(timedelta(hours=8))


def sample_receipt() -> ReceiptData:
    """The receipt of the docs: a residence permit application in a Shenzhen hall."""
    return ReceiptData(
        receipt_no="SZ01-K7M-261123-00042-H",
        hall_name=Bilingual("深圳市福田区政务服务中心", "Futian District Government Service Centre, Shenzhen"),
        service_name=Bilingual("居住证申领", "Residence Permit Application"),
        applicant_name="张*三",
        id_number="110105********002X",
        submitted_at=datetime(2026, 11, 23, 10, 30, tzinfo=CST),
        legal_working_days=15,
        promised_working_days=10,
        expected_completion=date(2026, 12, 7),
        materials_to_bring=(
            Bilingual("居民身份证（原件 1 份）", "Resident ID card (original, 1 copy)"),
            Bilingual("居住证明（房屋租赁合同、房产证明或单位宿舍证明）（原件及复印件 1 份）",
                      "Proof of residence (tenancy contract, property certificate or dormitory certificate) "
                      "(original and copy, 1 copy)"),
        ),
        where=Bilingual("政务服务中心公安综合窗口，或居住地公安派出所",
                        "Public security window of the service hall, or the police station where you live"),
        note=Bilingual("证件制作完成后凭回执到窗口领取。",
                       "Collect the permit at the window with your receipt once it is ready."),
        contact_phone="0755-12345",
    )


def sample_ticket() -> TicketData:
    """The queue ticket of the docs."""
    hall = Bilingual("深圳市福田区政务服务中心", "Futian District Government Service Centre, Shenzhen")
    return TicketData("A023", hall,
                      Bilingual("居住证申领", "Residence Permit Application"), 5,
                      datetime(2026, 11, 23, 10, 30, tzinfo=CST),
                      window=Bilingual("请到 3 号、4 号窗口办理", "Go to window 3 or 4"))


def timed(fn: Callable[[], object], count: int) -> list[float]:
    """Milliseconds per call, after two warm-up calls."""
    fn()
    fn()
    times = []
    for _ in range(count):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--append", metavar="FILE", type=Path, help="append the Markdown section to FILE")
    parser.add_argument("--renders", metavar="DIR", type=Path, help="write the sample PNG renders into DIR")
    args = parser.parse_args()

    data = sample_receipt()
    printed_at = datetime(2026, 11, 23, 10, 31, tzinfo=CST)
    doc = layout_receipt(data, ROLL_80MM, printed_at=printed_at)
    lines = [(i.text, i.font, i.size, i.x, i.y) for i in doc.pages[0].items if isinstance(i, TextItem)]
    height = doc.pages[0].height

    def plain_pdf() -> bytes:
        buf = io.BytesIO()
        canvas = Canvas(buf, pagesize=(ROLL_80MM.width_pt, height + 22), pageCompression=1, invariant=1)
        for text, font, size, x, y in lines:
            canvas.setFont(font, size)
            canvas.drawString(x + 11, height + 11 - y, text)
        canvas.showPage()
        canvas.save()
        return buf.getvalue()

    def plain_raster() -> Image.Image:
        scale = ROLL_80MM.dpi / 72
        image = Image.new("L", (576, int(height * scale) + 24), 255)
        draw = ImageDraw.Draw(image)
        for text, font, size, x, y in lines:
            draw.text((x * scale, y * scale), text, font=fonts.pil_font(font, size * scale), fill=0, anchor="ls")
        return image.convert("1")

    dummies: list[Dummy] = []

    def factory(connection: EscposConnection, timeout: float) -> Dummy:
        dummies[:] = [Dummy()]
        return dummies[0]

    thermal = EscposPrinter(EscposConnection.parse("usb:0x0416:0x5011"), paper=ROLL_80MM, device_factory=factory)

    def escpos_bytes() -> bytes:
        thermal.print_document(layout_receipt(data, ROLL_80MM, printed_at=printed_at), job_name="bench")
        return dummies[0].output

    fonts.register_fonts()
    rows = [
        ("plain reportlab page, same text (baseline)", timed(plain_pdf, args.count), "pdf"),
        ("receipt PDF 80 mm: layout + QR + render", timed(lambda: render_pdf(layout_receipt(
            data, ROLL_80MM, printed_at=printed_at)), args.count), "pdf"),
        ("receipt PDF A4", timed(lambda: render_pdf(layout_receipt(data, A4, printed_at=printed_at)), args.count),
         "pdf"),
        ("plain Pillow 576-dot image, same text (baseline)", timed(plain_raster, args.count), "raster"),
        ("receipt raster 80 mm: layout + draw + 1-bit", timed(lambda: render_raster(layout_receipt(
            data, ROLL_80MM, printed_at=printed_at)), args.count), "raster"),
        ("receipt via EscposPrinter 80 mm (raster + GS v 0 + cut, Dummy)", timed(escpos_bytes, args.count), "raster"),
    ]
    pdf_size = len(render_pdf(doc))
    image = render_raster(doc)
    section = report(rows, args, pdf_size, image.size)
    sys.stdout.write(section)
    if args.append:
        with args.append.open("a", encoding="utf-8") as handle:
            handle.write("\n" + section)
    if args.renders:
        write_renders(args.renders, printed_at)
    return 0


def report(rows: list[tuple[str, list[float], str]], args: argparse.Namespace, pdf_size: int,
           raster: tuple[int, int]) -> str:
    baselines = {group: statistics.median(times) for name, times, group in rows if "(baseline)" in name}
    out = [
        "## Printing receipts (`bench/bench_printing.py`)",
        "",
        f"Run {datetime.now().astimezone():%Y-%m-%d %H:%M %Z} on {platform.platform()}, "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, reportlab {metadata.version('reportlab')}, "
        f"Pillow {metadata.version('Pillow')}, python-escpos {metadata.version('python-escpos')}:",
        "",
        "```",
        f".venv/bin/python bench/bench_printing.py --count {args.count}",
        "```",
        "",
        f"The sample receipt of `docs/receipt-80mm.png` ({pdf_size // 1024} KB PDF with the font subset embedded; "
        f"raster {raster[0]}x{raster[1]} dots). Baselines draw the same lines of text with the same font, "
        "without layout, rules or QR code.",
        "",
        "| what | median ms | p95 ms | median vs baseline |",
        "|---|---:|---:|---:|",
    ]
    for name, times, group in rows:
        median = statistics.median(times)
        p95 = sorted(times)[int(len(times) * 0.95) - 1]
        out.append(f"| {name} | {median:.1f} | {p95:.1f} | {median / baselines[group]:.2f}x |")
    return "\n".join(out) + "\n"


def write_renders(folder: Path, printed_at: datetime) -> None:
    """The PNGs shown in the docs, rendered from the PDFs by pdftoppm at 150 dpi (A4 at 100)."""
    folder.mkdir(parents=True, exist_ok=True)
    docs = {
        "receipt-80mm": (layout_receipt(sample_receipt(), ROLL_80MM, printed_at=printed_at), 150),
        "receipt-58mm": (layout_receipt(sample_receipt(), ROLL_58MM, printed_at=printed_at), 150),
        "receipt-a4": (layout_receipt(sample_receipt(), A4, printed_at=printed_at), 100),
        "ticket-80mm": (layout_ticket(sample_ticket(), ROLL_80MM), 150),
    }
    with tempfile.TemporaryDirectory() as tmp:
        for name, (doc, dpi) in docs.items():
            pdf = Path(tmp) / f"{name}.pdf"
            pdf.write_bytes(render_pdf(doc))
            subprocess.run(["pdftoppm", "-png", "-singlefile", "-r", str(dpi), str(pdf), str(folder / name)],
                           check=True)


if __name__ == "__main__":
    sys.exit(main())
