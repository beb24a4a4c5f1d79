"""Fixtures for the printing tests: a sample receipt and a real, enrolled terminal store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from printing import ReceiptData
from sync.enrolment import Enrolment
from sync.sealing import generate_keypair
from sync.store import Store, database_path, open_store
from tests.printing.samples import make_receipt, pdf_text


@pytest.fixture
def receipt() -> ReceiptData:
    """The sample receipt."""
    return make_receipt()


@pytest.fixture
def store(data_dir: Path) -> Iterator[Store]:
    """A real, enrolled terminal store (site SZ01, device K7M)."""
    with open_store(database_path(data_dir)) as s:
        _, public = generate_keypair()
        s.save_enrolment(
            Enrolment(
                device_id="0f6c2b1e-6d3a-4c1b-9a51-1f2e3d4c5b6a", device_code="K7M", site_code="SZ01",
                token="tb_test_token", sealing_public_key=public, catalog_signing_key=bytes(range(32)),
                central_url="http://127.0.0.1:8700", enrolled_at=datetime(2026, 11, 1, tzinfo=UTC),
            )
        )
        yield s


@pytest.fixture
def read_pdf() -> Callable[[Path], str]:
    """``pdftotext`` as a fixture."""
    return pdf_text
