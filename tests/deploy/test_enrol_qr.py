"""Enrolment by QR: the platform's QR and the terminal's reader agree, end to end."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from central.enrolment import CODE_ALPHABET, enrolment_qr_text
from devices.enrolment_qr import EnrolmentCode, make_enrolment_qr, parse_enrolment_qr
from kiosk.commands.enroll import EnrolmentFailed, enroll_from_payload
from kiosk.config import default_config
from tests.support.central_process import central_cli, running_central
from tests.support.cli import run_cli

codes = st.text(alphabet=CODE_ALPHABET, min_size=10, max_size=10).map(lambda c: f"{c[:5]}-{c[5:]}")
hosts = st.from_regex(r"[a-z][a-z0-9-]{0,20}(\.[a-z]{2,6}){0,2}", fullmatch=True)


@given(scheme=st.sampled_from(["http", "https"]), host=hosts, port=st.none() | st.integers(1, 65535), code=codes)
def test_platform_qr_is_what_the_terminal_reads(scheme: str, host: str, port: int | None, code: str) -> None:
    url = f"{scheme}://{host}" + (f":{port}" if port else "")
    text = enrolment_qr_text(url + "/", code)
    assert parse_enrolment_qr(text) == EnrolmentCode(url=url, code=code)
    assert text == make_enrolment_qr(EnrolmentCode(url=url, code=code))  # byte for byte the same format


def test_platform_refuses_an_address_that_is_not_http() -> None:
    with pytest.raises(ValueError, match="http"):
        enrolment_qr_text("ftp://central", "ABCDE-FGHJK")


def test_payload_that_is_not_an_enrolment_qr_is_refused_without_enrolling(data_dir: Path) -> None:
    with pytest.raises(EnrolmentFailed, match="not a usable enrolment QR"):
        enroll_from_payload(data_dir, default_config(), "110101199003077777")


def test_unreachable_platform_says_so(data_dir: Path) -> None:
    text = make_enrolment_qr(EnrolmentCode(url="http://127.0.0.1:9", code="ABCDE-FGHJK"))
    with pytest.raises(EnrolmentFailed, match=re.escape("cannot reach the central platform at http://127.0.0.1:9")):
        enroll_from_payload(data_dir, default_config(), text)


@pytest.mark.slow
def test_technician_enrols_a_kiosk_from_the_qr_png(tmp_path: Path, data_dir: Path) -> None:
    central_dir = tmp_path / "central"
    qr = tmp_path / "enrol.png"
    with running_central(central_dir) as url:
        made = central_cli(central_dir, "enroll-code", "create", "--site", "SZ01", "--url", url, "--qr", str(qr),
                           "--json")
        assert made.returncode == 0, made.stderr
        issued = json.loads(made.stdout)
        assert qr.is_file() and issued["qr_file"] == str(qr)

        enrolled = run_cli("enroll", "--from-qr", str(qr), "--json", data_dir=data_dir)
        assert enrolled.returncode == 0, enrolled.stderr
        facts = json.loads(enrolled.stdout)
        assert facts["site_code"] == "SZ01" and facts["central_url"] == url
        assert issued["code"] not in enrolled.stdout + enrolled.stderr  # the one-time secret is not echoed

        again = run_cli("enroll", "--from-qr", str(qr), data_dir=data_dir)
        assert again.returncode == 1 and "already enrolled" in again.stderr
        reused = run_cli("enroll", "--from-qr", str(qr), "--force", data_dir=data_dir)
        assert reused.returncode == 1 and "refused" in reused.stderr  # a code works once

    logs = "".join(p.read_text("utf-8") for p in (data_dir / "logs").glob("*.log*"))
    assert issued["code"] not in logs and issued["code"].replace("-", "") not in logs


def test_qr_needs_the_platform_address(tmp_path: Path) -> None:
    done = central_cli(tmp_path / "central", "enroll-code", "create", "--site", "SZ01", "--qr", str(tmp_path / "q.png"))
    assert done.returncode == 2 and "--qr needs --url" in done.stderr


def test_image_without_an_enrolment_code_is_refused(tmp_path: Path, data_dir: Path) -> None:
    import segno

    image = tmp_path / "receipt.png"
    segno.make_qr("hello").save(str(image), scale=8)
    done = run_cli("enroll", "--from-qr", str(image), data_dir=data_dir)
    assert done.returncode == 2 and "not an enrolment QR" in done.stderr
