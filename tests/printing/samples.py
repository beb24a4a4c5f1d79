"""Sample receipts and tickets, and reading PDFs back with poppler, for the printing tests."""

from __future__ import annotations

import subprocess
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from PIL import Image

from printing import Bilingual, ReceiptData, TicketData

CST = timezone(timedelta(hours=8))
FULL_ID = "11010519491231002X"
MASKED_ID = "110105********002X"
RECEIPT_NO = "SZ01-K7M-261123-00042-H"
HALL = Bilingual("深圳市福田区政务服务中心", "Futian District Government Service Centre, Shenzhen")
LONG_ADDRESS = Bilingual(
    "广东省深圳市福田区福中三路市民中心行政服务大厅B区二楼公安综合窗口第十七至第二十三号窗口（工作日上午九点至下午六点）",
    "Public security windows 17 to 23, second floor, hall B, Citizen Centre administrative service hall, "
    "Fuzhong 3rd Road, Futian District, Shenzhen, Guangdong (working days 9:00-18:00)",
)


def make_receipt(**changes: object) -> ReceiptData:
    """A realistic receipt; keyword arguments replace fields."""
    values: dict[str, object] = {
        "receipt_no": RECEIPT_NO,
        "hall_name": HALL,
        "service_name": Bilingual("居住证申领", "Residence Permit Application"),
        "applicant_name": "张*三",
        "id_number": MASKED_ID,
        "submitted_at": datetime(2026, 11, 23, 10, 30, tzinfo=CST),
        "legal_working_days": 15,
        "promised_working_days": 10,
        "expected_completion": date(2026, 12, 7),
        "materials_to_bring": (
            Bilingual("居民身份证（原件 1 份）", "Resident ID card (original, 1 copy)"),
            Bilingual(
                "居住证明（房屋租赁合同、房产证明或单位宿舍证明）（原件及复印件 1 份）",
                "Proof of residence (tenancy contract, property certificate or dormitory certificate) "
                "(original and copy, 1 copy)",
            ),
        ),
        "where": Bilingual("政务服务中心公安综合窗口，或居住地公安派出所",
                           "Public security window of the service hall, or the police station where you live"),
        "note": Bilingual("证件制作完成后凭回执到窗口领取。",
                          "Collect the permit at the window with your receipt once it is ready."),
        "contact_phone": "0755-12345",
    }
    values.update(changes)
    return ReceiptData(**values)  # type: ignore[arg-type]


def make_ticket(**changes: object) -> TicketData:
    """A realistic queue ticket; keyword arguments replace fields."""
    values: dict[str, object] = {
        "ticket_no": "A023",
        "hall_name": HALL,
        "service_name": Bilingual("居住证申领", "Residence Permit Application"),
        "waiting_ahead": 5,
        "issued_at": datetime(2026, 11, 23, 10, 30, tzinfo=CST),
        "window": Bilingual("请到 3 号、4 号窗口办理", "Go to window 3 or 4"),
    }
    values.update(changes)
    return TicketData(**values)  # type: ignore[arg-type]


def pdf_text(path: Path, mode: str = "-layout") -> str:
    """The text of a PDF as ``pdftotext`` reads it (``-layout``, or ``-raw`` for content order)."""
    return subprocess.run(["pdftotext", mode, str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def pdf_pages(path: Path, tmp: Path, dpi: int = 150) -> list[Image.Image]:
    """Every page of a PDF rendered by ``pdftoppm`` as greyscale images."""
    prefix = tmp / f"{path.stem}-page"
    subprocess.run(["pdftoppm", "-gray", "-r", str(dpi), str(path), str(prefix)], check=True)
    return [Image.open(p).convert("L") for p in sorted(tmp.glob(f"{prefix.name}-*.pgm"))]


def ink_box(image: Image.Image, threshold: int = 128) -> tuple[int, int, int, int] | None:
    """``(left, top, right, bottom)`` around every dark pixel (right/bottom exclusive), or None."""
    dark = image.convert("L").point(lambda v: 255 if v < threshold else 0)
    return dark.getbbox()
