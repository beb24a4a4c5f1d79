"""Test set-up shared by every test: headless Qt, hypothesis profile, common fixtures."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests.support.postgres import PostgresCluster, PostgresUnavailable

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


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """A throwaway PostgreSQL cluster for the session (started only when a test asks).

    Where PostgreSQL cannot be started the PostgreSQL variants skip with the reason, but
    on CI (``CI=true``) they fail: the suite must really run on both databases there.
    """
    try:
        cluster = PostgresCluster.start()
    except PostgresUnavailable as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"PostgreSQL cannot be started: {exc}", pytrace=False)
        pytest.skip(f"PostgreSQL cannot be started: {exc}")
    try:
        yield cluster
    finally:
        cluster.stop(remove_in_background=True)



@pytest.fixture(scope="module")
def central_database(request: pytest.FixtureRequest) -> str | None:
    """The PostgreSQL URL a module's platform process uses, or ``None`` for SQLite.

    SQLite unless the module asks for both::

        pytestmark = pytest.mark.parametrize(
            "central_database", ["sqlite", "postgres"], indirect=True, scope="module")
    """
    backend = getattr(request, "param", "sqlite")
    if backend == "sqlite":
        return None
    cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
    return cluster.create_database()
