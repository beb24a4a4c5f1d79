"""Decoding generated codes with both decoders: Chinese UTF-8, every format, rotation, blur."""

from __future__ import annotations

import datetime as dt
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.decoder import (
    DecoderError,
    FrameError,
    UnsupportedFormat,
    ZbarDecoder,
    ZxingDecoder,
    make_decoder,
    repair_mojibake,
    to_gray,
)
from devices.payload import PayloadKind
from devices.scan import BarcodeFormat, ScanSource
from sync.receipt import ReceiptNumber
from tests.devices.codes import blurred, camera_frame, code_image, qr_image, rotated

CHINESE = ["通办", "社会保障卡补换", "居住证申领 SZ01", "城乡居民医保参保登记", "张三 11010519491231002X"]
TEXTS = {
    BarcodeFormat.QR: "通办 https://zwfw.example.gov.cn/办事?id=1",
    BarcodeFormat.DATA_MATRIX: "社会保障卡 DM-01",
    BarcodeFormat.PDF417: "居住证 PDF417 测试",
    BarcodeFormat.CODE128: "SZ01K7M25060100042",
    BarcodeFormat.EAN13: "9787111213826",
}
ZBAR_FORMATS = (BarcodeFormat.QR, BarcodeFormat.CODE128, BarcodeFormat.EAN13)


@pytest.fixture(scope="module")
def zxing() -> ZxingDecoder:
    return ZxingDecoder()


@pytest.fixture(scope="module")
def zbar() -> ZbarDecoder:
    return ZbarDecoder()


def texts(results: list) -> list[str]:
    return [r.text for r in results]


@pytest.mark.parametrize("decoder_name", ["zxing", "zbar"])
@pytest.mark.parametrize("eci", [False, True], ids=["no-eci", "eci"])
@pytest.mark.parametrize("text", CHINESE)
def test_chinese_utf8_qr_reads_correctly_with_both_decoders(decoder_name: str, eci: bool, text: str) -> None:
    (result,) = make_decoder(decoder_name).decode(qr_image(text, eci=eci))
    assert result.text == text
    assert result.raw_bytes == text.encode("utf-8")
    assert result.format is BarcodeFormat.QR and result.decoder == decoder_name


@pytest.mark.parametrize("decoder_name", ["zxing", "zbar"])
def test_utf8_put_in_kanji_mode_by_a_generator_still_reads_as_chinese(decoder_name: str) -> None:
    # segno (mode left to it) encodes the UTF-8 bytes of "通办" in kanji mode: readers see Shift-JIS.
    (result,) = make_decoder(decoder_name).decode(qr_image("通办", mode=None))
    assert result.text == "通办"


def test_zbar_mojibake_is_what_we_repair() -> None:
    # "通办" as UTF-8 bytes read as Shift-JIS, exactly what pyzbar returns without an ECI
    assert repair_mojibake("騾壼萱") == "通办"
    for fine in ("通办", "hello", "日本語のテキスト", "café", "cafÃ©", "Â\xa0", ""):
        assert repair_mojibake(fine) == fine


@given(st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), min_size=1, max_size=20))
def test_repair_reverses_any_shift_jis_reading_of_chinese(text: str) -> None:
    try:
        mojibake = text.encode("utf-8").decode("shift_jis")
    except UnicodeDecodeError:
        return  # zbar would not have guessed Shift-JIS for these bytes
    assert repair_mojibake(mojibake) == text


@pytest.mark.parametrize("fmt", list(TEXTS))
def test_zxing_reads_every_format(zxing: ZxingDecoder, fmt: BarcodeFormat) -> None:
    (result,) = zxing.decode(code_image(fmt, TEXTS[fmt]))
    assert (result.format, result.text) == (fmt, TEXTS[fmt])


@pytest.mark.parametrize("fmt", ZBAR_FORMATS)
def test_zbar_reads_the_formats_it_supports(zbar: ZbarDecoder, fmt: BarcodeFormat) -> None:
    (result,) = zbar.decode(code_image(fmt, TEXTS[fmt]))
    assert (result.format, result.text) == (fmt, TEXTS[fmt])


@pytest.mark.parametrize("fmt", [BarcodeFormat.DATA_MATRIX, BarcodeFormat.PDF417])
def test_zbar_says_honestly_what_it_cannot_read(fmt: BarcodeFormat) -> None:
    assert fmt not in ZbarDecoder.supported_formats
    with pytest.raises(UnsupportedFormat, match=f"zbar decoder cannot read {fmt.value}"):
        make_decoder("zbar", [BarcodeFormat.QR, fmt])


def test_unknown_decoder_names_the_choices() -> None:
    with pytest.raises(DecoderError, match="zxing, zbar"):
        make_decoder("opencv")


@pytest.mark.parametrize("degrees", [90, 180, 270, 17, -33])
def test_rotated_qr_reads_with_both_decoders(zxing: ZxingDecoder, zbar: ZbarDecoder, degrees: float) -> None:
    image = rotated(qr_image(CHINESE[1]), degrees)
    assert texts(zxing.decode(image)) == [CHINESE[1]]
    assert texts(zbar.decode(image)) == [CHINESE[1]]


@pytest.mark.parametrize("fmt", list(TEXTS))
def test_rotated_codes_of_every_format_read_with_zxing(zxing: ZxingDecoder, fmt: BarcodeFormat) -> None:
    image = rotated(code_image(fmt, TEXTS[fmt]), 90)
    assert texts(zxing.decode(image)) == [TEXTS[fmt]]


@pytest.mark.parametrize("fmt", list(TEXTS))
def test_slightly_blurred_codes_still_read(zxing: ZxingDecoder, fmt: BarcodeFormat) -> None:
    image = blurred(code_image(fmt, TEXTS[fmt], scale=4), 1.5)
    assert texts(zxing.decode(image)) == [TEXTS[fmt]]
    if fmt in ZBAR_FORMATS:
        assert texts(make_decoder("zbar").decode(image)) == [TEXTS[fmt]]


def test_a_code_in_a_camera_frame_is_found_and_classified(zxing: ZxingDecoder, zbar: ZbarDecoder) -> None:
    receipt = str(ReceiptNumber.issue("SZ01", "K7M", dt.date(2025, 6, 1), 42))
    frame = camera_frame(rotated(qr_image(receipt, scale=5), 12), rng=random.Random(1), noise=6)
    for decoder in (zxing, zbar):
        (result,) = decoder.decode(frame, source=ScanSource.CAMERA)
        assert result.kind is PayloadKind.RECEIPT and str(result.payload.receipt) == receipt
        assert result.source is ScanSource.CAMERA


def test_several_codes_in_one_frame_are_all_found(zxing: ZxingDecoder) -> None:
    frame = np.full((400, 900), 255, np.uint8)
    for text, left in (("第一个", 40), ("第二个", 500)):
        code = np.asarray(qr_image(text, scale=6))
        frame[40 : 40 + code.shape[0], left : left + code.shape[1]] = code
    assert sorted(texts(zxing.decode(frame))) == sorted(["第一个", "第二个"])


def test_a_frame_without_a_code_gives_nothing(zxing: ZxingDecoder, zbar: ZbarDecoder) -> None:
    frame = camera_frame(qr_image("x").resize((1, 1)), rng=random.Random(2), noise=20)
    assert zxing.decode(frame) == [] and zbar.decode(frame) == []


def test_frames_of_every_shape_we_accept() -> None:
    gray = np.asarray(qr_image("办"))
    rgb = np.stack([gray] * 3, axis=2)
    rgba = np.concatenate([rgb, np.full((*gray.shape, 1), 255, np.uint8)], axis=2)
    for frame in (gray, rgb, rgba, gray[:, :, None], qr_image("办").convert("RGB"), gray[::1, ::1].T.T):
        assert np.array_equal(to_gray(frame), gray)


@pytest.mark.parametrize(
    "frame", [np.zeros((10, 10), np.float32), np.zeros((2, 2, 2), np.uint8), np.zeros((0, 5), np.uint8), b"png", None]
)
def test_what_is_not_a_frame_is_refused_clearly(frame: object) -> None:
    with pytest.raises(FrameError):
        to_gray(frame)


@settings(max_examples=25)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=60))
def test_any_utf8_text_round_trips_through_a_qr_code_with_zxing(text: str) -> None:
    results = ZxingDecoder([BarcodeFormat.QR]).decode(qr_image(text, eci=True, scale=3))
    assert texts(results) == [text]
