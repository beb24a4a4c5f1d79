"""Test set-up shared by every test: headless Qt, hypothesis profile, common fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Headless Qt for every test, set here so callers (CI, developers) need not remember it.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Never let a test touch a real terminal's data or config.
os.environ.pop("KIOSK_DATA_DIR", None)
os.environ.pop("KIOSK_CONFIG", None)

# Two-core CI machines: no per-example deadline, but a fixed, generous example count.
settings.register_profile("ci", deadline=None, max_examples=200, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci")

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """An empty terminal data folder."""
    path = tmp_path / "terminal"
    path.mkdir()
    return path
