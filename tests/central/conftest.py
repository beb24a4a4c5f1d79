"""Fixtures for the central platform's tests: an app over a fresh data folder, enrolled
fake terminals that seal and push like the real one, and the real server in a subprocess.

Other test folders can reuse the subprocess helpers from
``tests/support/central_process.py`` (``start_central_process``, ``running_central``).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from central.app import Platform, create_app
from central.enrolment import issue_code
from sync.protocol import EnrolResponse
from tests.central.central_helpers import FakeTerminal
from tests.support.central_process import running_central


@pytest.fixture(scope="session")
def central_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A platform data folder made once per session: keys and the published catalog.

    Loading the catalog's definitions takes a while; copies of this folder start fast
    because the platform sees the catalog files unchanged.
    """
    folder = tmp_path_factory.mktemp("central-template") / "central"
    create_app(folder)
    return folder


@pytest.fixture
def central_dir(tmp_path: Path, central_template: Path) -> Path:
    """A data folder for the platform with keys and the bundled catalog, nothing else."""
    folder = tmp_path / "central"
    shutil.copytree(central_template, folder)
    return folder


@pytest.fixture
def app(central_dir: Path) -> FastAPI:
    """The platform over ``central_dir`` with the bundled catalog."""
    return create_app(central_dir)


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
def central_server(tmp_path: Path, central_template: Path) -> Iterator[tuple[str, Path]]:
    """The real ``kiosk-central serve`` on 127.0.0.1: ``(url, data_dir)``."""
    data_dir = tmp_path / "central-served"
    shutil.copytree(central_template, data_dir)
    with running_central(data_dir) as url:
        yield url, data_dir
