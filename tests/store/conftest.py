"""Fixtures for the local store tests: a real SQLite file in tmp_path, an enrolled terminal."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sync.enrolment import Enrolment
from sync.sealing import generate_keypair
from sync.store import Store, database_path, open_store

NOW = datetime(2026, 11, 23, 2, 30, tzinfo=UTC)  # the tests' "now" (test modules repeat it)


@pytest.fixture
def keypair() -> tuple[bytes, bytes]:
    """The central platform's sealing key pair: (private, public)."""
    return generate_keypair()


def _make_enrolment(public_key: bytes, *, site: str = "SZ01", device: str = "K7M") -> Enrolment:
    return Enrolment(
        device_id="0f6c2b1e-6d3a-4c1b-9a51-1f2e3d4c5b6a",
        device_code=device,
        site_code=site,
        token="tb_secret_token_do_not_log",
        sealing_public_key=public_key,
        catalog_signing_key=bytes(range(32)),
        central_url="http://127.0.0.1:8700",
        enrolled_at=NOW,
    )


@pytest.fixture
def make_enrolment() -> Callable[..., Enrolment]:
    """``make_enrolment(public_key, site=..., device=...)``: an enrolment as ``kiosk enroll`` stores it."""
    return _make_enrolment


@pytest.fixture
def store(data_dir: Path) -> Iterator[Store]:
    """An empty, unenrolled terminal store."""
    with open_store(database_path(data_dir)) as s:
        yield s


@pytest.fixture
def enrolled(store: Store, keypair: tuple[bytes, bytes]) -> Store:
    """A store of an enrolled terminal (site SZ01, device K7M)."""
    store.save_enrolment(_make_enrolment(keypair[1]), now=NOW)
    return store
