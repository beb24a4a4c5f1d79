"""Fixtures for the central platform's tests: an app over a fresh data folder, enrolled
fake terminals that seal and push like the real one, and the real server in a subprocess.

Every test here runs twice, on SQLite and on PostgreSQL (``central_backend``): the data
folder of a PostgreSQL run names a fresh database (a copy of a template database with the
catalog published) in its ``central.toml``, so the app, the server and the admin commands
all use it.

Other test folders can reuse the subprocess helpers from
``tests/support/central_process.py`` (``start_central_process``, ``running_central``).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from central.app import Platform, create_app
from central.enrolment import issue_code
from central.sqlite_store import DB_FILE
from sync.protocol import EnrolResponse
from tests.central.central_helpers import FakeTerminal
from tests.support.central_process import running_central, use_database
from tests.support.postgres import PostgresCluster


@pytest.fixture(scope="session")
def central_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A platform data folder made once per session: keys and the published catalog.

    Loading the catalog's definitions takes a while; copies of this folder start fast
    because the platform sees the catalog files unchanged.
    """
    folder = tmp_path_factory.mktemp("central-template") / "central"
    create_app(folder)
    return folder


@dataclass(frozen=True)
class Backend:
    """The database a test's platform uses: SQLite (no cluster), or PostgreSQL with its
    cluster and the template database every test's database is copied from."""

    cluster: PostgresCluster | None = None
    template: str | None = None


_TEMPLATE_DB = "central_template"


@pytest.fixture(scope="session")
def postgres_template(
    postgres_cluster: PostgresCluster, central_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """A database with the catalog of ``central_template`` published (signed by its keys)."""
    url = postgres_cluster.create_database(_TEMPLATE_DB)
    folder = tmp_path_factory.mktemp("central-pg-template") / "central"
    shutil.copytree(central_template, folder)
    create_app(folder, database=url).state.platform.store.close()
    return _TEMPLATE_DB


@pytest.fixture(params=["sqlite", "postgres"])
def central_backend(request: pytest.FixtureRequest) -> Backend:
    """Which database the platform of this test uses (each test runs on both)."""
    if request.param == "sqlite":
        return Backend()
    template = request.getfixturevalue("postgres_template")
    return Backend(request.getfixturevalue("postgres_cluster"), template)


@pytest.fixture
def new_central_dir(central_template: Path, central_backend: Backend) -> Callable[[Path], Path]:
    """Make a platform data folder at a path: keys, bundled catalog, this test's database."""

    def make(folder: Path) -> Path:
        shutil.copytree(central_template, folder)
        if central_backend.cluster is not None:
            (folder / DB_FILE).unlink()
            use_database(folder, central_backend.cluster.create_database(template=central_backend.template))
        return folder

    return make


@pytest.fixture
def central_dir(tmp_path: Path, new_central_dir: Callable[[Path], Path]) -> Path:
    """A data folder for the platform with keys and the bundled catalog, nothing else."""
    return new_central_dir(tmp_path / "central")


@pytest.fixture
def app(central_dir: Path) -> Iterator[FastAPI]:
    """The platform over ``central_dir`` with the bundled catalog."""
    app = create_app(central_dir)
    try:
        yield app
    finally:
        app.state.platform.store.close()


@pytest.fixture
def platform(app: FastAPI) -> Platform:
    """The app's parts (store, keys, ingest, uploads)."""
    platform: Platform = app.state.platform
    return platform


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """A test client for the app."""
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def new_code(platform: Platform) -> Callable[..., str]:
    """Make a fresh enrolment code: ``new_code(site="SZ01")``."""

    def make(site: str = "SZ01") -> str:
        return issue_code(platform.store, site).code

    return make


@pytest.fixture
def enrol(client: TestClient, new_code: Callable[..., str]) -> Callable[..., FakeTerminal]:
    """Enrol a new fake terminal: ``enrol(site="SZ01")``."""

    def make(site: str = "SZ01") -> FakeTerminal:
        answer = client.post("/v1/enrol", json={"code": new_code(site), "device_name": "test"})
        assert answer.status_code == 200, answer.text
        return FakeTerminal(client, EnrolResponse.model_validate(answer.json()))

    return make


@pytest.fixture
def terminal(enrol: Callable[..., FakeTerminal]) -> FakeTerminal:
    """One enrolled terminal at site SZ01."""
    return enrol()


@pytest.fixture
def central_server(
    tmp_path: Path, new_central_dir: Callable[[Path], Path]
) -> Iterator[tuple[str, Path]]:
    """The real ``kiosk-central serve`` on 127.0.0.1: ``(url, data_dir)``."""
    data_dir = new_central_dir(tmp_path / "central-served")
    with running_central(data_dir) as url:
        yield url, data_dir
