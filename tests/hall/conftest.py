"""Fixtures for the hall tests: the real central platform (uvicorn on 127.0.0.1) and
enrolled terminals with real SQLite stores.

* ``central``: ``kiosk-central serve`` in a subprocess, one per module, site ``HL01``.
* ``make_terminal()``: a fresh terminal store enrolled at it (each its own device).
* ``terminal``: one such terminal.
"""

from __future__ import annotations

import random
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from catalog import DEFAULT_CATALOG_DIR
from forms import Catalog, load_catalog
from kiosk.commands.enroll import enrol_terminal
from sync.client import CentralClient
from sync.engine import SyncOptions, SyncReport, run_once
from sync.store import Store, database_path, open_store
from tests.support.answers import valid_answers
from tests.support.central_process import (
    central_cli,
    central_json,
    create_enrolment_code,
    start_central_process,
    stop_central_process,
    use_database,
)

SITE = "HL01"
SERVICE_ID = "residence-permit"


@dataclass
class Central:
    """A running platform: URL, data folder, process."""

    url: str
    data_dir: Path
    proc: subprocess.Popen[str]

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run ``kiosk-central ARGS`` on this platform's data."""
        return central_cli(self.data_dir, *args)

    def json(self, *args: str) -> Any:
        """Run an admin command with ``--json`` and parse its output."""
        return central_json(self.data_dir, *args)

    def appointment(self, slot: str, *, service: str = SERVICE_ID, hall: str = SITE, **extra: str) -> dict[str, Any]:
        """``kiosk-central appointments create`` -> its JSON (with the token)."""
        args = ["appointments", "create", "--service", service, "--slot", slot, "--hall", hall]
        for key, value in extra.items():
            args += [f"--{key.replace('_', '-')}", value]
        result: dict[str, Any] = self.json(*args)
        return result


@pytest.fixture(scope="module")
def central(
    tmp_path_factory: pytest.TempPathFactory, central_database: str | None
) -> Iterator[Central]:
    """The real platform on 127.0.0.1 (on the module's database, see ``central_database``)."""
    data_dir = use_database(tmp_path_factory.mktemp("hall-central") / "central", central_database)
    url, proc = start_central_process(data_dir)
    platform = Central(url, data_dir, proc)
    try:
        yield platform
    finally:
        stop_central_process(platform.proc)


@pytest.fixture(scope="session")
def bundled_catalog() -> Catalog:
    """The bundled catalog, loaded once."""
    return load_catalog(DEFAULT_CATALOG_DIR)


@dataclass
class Terminal:
    """An enrolled terminal: its data folder, store and platform URL."""

    data_dir: Path
    store: Store
    url: str
    catalog: Catalog
    rng: random.Random = field(default_factory=lambda: random.Random(3))

    @property
    def device_id(self) -> str:
        return self.store.require_enrolment().device_id

    def client(self) -> CentralClient:
        token = self.store.require_enrolment().token
        return CentralClient(self.url, token=token, read_timeout=10.0, connect_timeout=3.0)

    def submit_test(self, *, agent_id: str | None = None, service_id: str = SERVICE_ID) -> Any:
        """Queue the service's example answers as a test submission (no uploads needed)."""
        definition = self.catalog.get(service_id)
        payload, files = valid_answers(self.catalog, service_id, self.rng, marker=b"TONGBAN-HALL-TEST ")
        return self.store.enqueue(
            service_id, definition.version, payload, attachments=files,
            is_test=True, agent_id=agent_id,
            service_name={"zh_CN": definition.name.zh_CN, "en": definition.name.en},
        )

    def sync(self, **options: Any) -> SyncReport:
        """One engine cycle in-process."""
        options.setdefault("ignore_backoff", True)
        now = options.pop("now", None)
        with self.client() as client:
            return run_once(self.store, client, now=now, options=SyncOptions(**options))


@pytest.fixture
def make_terminal(
    tmp_path: Path, central: Central, bundled_catalog: Catalog
) -> Iterator[Callable[..., Terminal]]:
    """``make_terminal(site=SITE)``: a new terminal enrolled at the platform."""
    stores: list[Store] = []

    def make(site: str = SITE) -> Terminal:
        data_dir = tmp_path / f"terminal{len(stores)}"
        store = open_store(database_path(data_dir))
        stores.append(store)
        with CentralClient(central.url) as client:
            enrol_terminal(store, client, create_enrolment_code(central.data_dir, site))
        return Terminal(data_dir, store, central.url, bundled_catalog)

    try:
        yield make
    finally:
        for store in stores:
            store.close()


@pytest.fixture
def terminal(make_terminal: Callable[..., Terminal]) -> Terminal:
    """One enrolled terminal at site HL01."""
    return make_terminal()
