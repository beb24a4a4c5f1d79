"""A receipt PDF says what the citizen needs, in both languages, and nothing it must not."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from printing import A4, ROLL_58MM, ROLL_80MM, Paper, ReceiptData
from printing.fonts import FONT_FILE
from printing.receipt import layout_receipt
from printing.render_pdf import render_pdf
from tests.printing.samples import (
    FULL_ID,
    LONG_ADDRESS,
    MASKED_ID,
    RECEIPT_NO,
    ink_box,
    make_receipt,
    pdf_pages,
    pdf_text,
)

PAPERS = [ROLL_80MM, ROLL_58MM, A4]


def write(tmp_path: Path, data: ReceiptData, paper: Paper, **kwargs: object) -> Path:
    path = tmp_path / f"receipt-{paper.name}.pdf"
    path.write_bytes(render_pdf(layout_receipt(data, paper, **kwargs)))  # type: ignore[arg-type]
    return path


@pytest.mark.parametrize("paper", PAPERS, ids=lambda p: p.name)
def test_receipt_pdf_reads_back_number_chinese_service_and_masked_id(tmp_path: Path, paper: Paper) -> None:
    text = pdf_text(write(tmp_path, make_receipt(), paper))
    flat = "".join(text.split())
    assert RECEIPT_NO in flat
    assert "居住证申领" in text and "Residence Permit Application" in text
    assert MASKED_ID in text
    assert FULL_ID not in flat
    assert "受理回执" in text and "Application Receipt" in text
    assert "法定 15 个工作日" in text and "2026年12月7日" in text and "7 Dec 2026" in text
    assert "居民身份证" in text and "Resident ID card" in text
    assert "为保护您的隐私" in text and "To protect your privacy" in text


def test_the_shipped_font_is_embedded_so_no_system_cjk_font_is_needed(tmp_path: Path) -> None:
    assert FONT_FILE.is_file() and FONT_FILE.parent.parent.name == "printing"
    fonts = subprocess.run(["pdffonts", str(write(tmp_path, make_receipt(), ROLL_80MM))], capture_output=True,
                           text=True, check=True).stdout
    lines = [line for line in fonts.splitlines() if "WenQuanYi" in line]
    assert lines, fonts
    assert all(" yes " in line for line in lines), fonts  # embedded (emb column)


def test_a_receipt_refuses_an_unmasked_id_number() -> None:
    with pytest.raises(ValueError, match="masked"):
        make_receipt(id_number=FULL_ID)


def test_test_submissions_are_marked_on_paper_and_real_ones_are_not(tmp_path: Path) -> None:
    test_text = pdf_text(write(tmp_path, make_receipt(is_test=True), ROLL_80MM))
    assert test_text.count("测试凭条") == 2 and "TEST RECEIPT" in test_text
    assert "测试" not in pdf_text(write(tmp_path, make_receipt(), ROLL_80MM))


def test_a_staff_reprint_says_so(tmp_path: Path) -> None:
    text = pdf_text(write(tmp_path, make_receipt(), ROLL_58MM, reprint=True))
    assert "补打" in text and "Reprint" in text


def test_a4_receipt_fits_one_page(tmp_path: Path) -> None:
    info = subprocess.run(["pdfinfo", str(write(tmp_path, make_receipt(is_test=True), A4))], capture_output=True,
                          text=True, check=True).stdout
    assert re.search(r"^Pages:\s+1$", info, re.M), info


@pytest.mark.parametrize("paper", PAPERS, ids=lambda p: p.name)
def test_a_60_character_name_and_a_very_long_address_wrap_inside_the_paper(tmp_path: Path, paper: Paper) -> None:
    long_name = "买" + "*" * 58 + "提"  # a 60-character masked name
    data = make_receipt(applicant_name=long_name, where=LONG_ADDRESS,
                        service_name=make_receipt().service_name.__class__("长" * 80, "Long " * 40))
    doc = layout_receipt(data, paper)
    path = tmp_path / "long.pdf"
    path.write_bytes(render_pdf(doc))
    text = "".join(pdf_text(path, "-raw").split())
    assert long_name in text
    assert "第十七至第二十三号窗口" in text
    dpi = 150
    margin_px = paper.side_margin_pt / 72 * dpi
    for page in pdf_pages(path, tmp_path, dpi):
        box = ink_box(page)
        assert box is not None
        left, _, right, _ = box
        # nothing is drawn in the paper's unprinted edges (1 px of anti-aliasing allowed)
        assert left >= margin_px - 1, (left, margin_px)
        assert right <= page.width - margin_px + 1, (right, page.width, margin_px)
