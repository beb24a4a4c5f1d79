"""The files a technician installs stay consistent with the code."""

from __future__ import annotations

import configparser
from pathlib import Path

from kiosk.config import load_config

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def unit(name: str) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # systemd keys are case-sensitive
    parser.read(DEPLOY / name, encoding="utf-8")
    return parser


def test_example_config_is_valid_and_uses_every_new_section() -> None:
    config = load_config(DEPLOY / "kiosk.toml.example")
    assert config.devices.decoder == "zxing" and config.doctor.min_free_disk_mb == 500


def test_kiosk_unit_restarts_always_and_is_watched() -> None:
    service = unit("tongban-kiosk.service")["Service"]
    assert service["Type"] == "notify" and service["Restart"] == "always"
    assert int(service["WatchdogSec"]) >= 10  # pings every WatchdogSec/2 from the Qt event loop
    assert service["User"] == "kiosk" and "KIOSK_DATA_DIR=/var/lib/tongban" in service["Environment"]
    assert unit("tongban-kiosk.service")["Unit"]["StartLimitIntervalSec"] == "0"


def test_x_session_script_exists_where_the_unit_runs_it() -> None:
    exec_start = unit("tongban-xorg.service")["Service"]["ExecStart"]
    assert "/opt/tongban/deploy/kiosk-session.sh" in exec_start
    script = DEPLOY / "kiosk-session.sh"
    assert script.stat().st_mode & 0o111 and "xset -dpms" in script.read_text()
