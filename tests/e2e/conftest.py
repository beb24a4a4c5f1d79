"""Fixtures for the end-to-end sync tests: the real platform, real terminals, real faults.

* ``central``: ``kiosk-central serve`` in a subprocess on 127.0.0.1 (one per module: the
  tests tell their submissions apart by terminal, each terminal being its own device).
* ``proxy``: a :class:`tests.support.faultproxy.FaultProxy` in front of it.
* ``terminal``: a fresh terminal store, enrolled *through the proxy* (so every request
  of that terminal can be faulted), with helpers to queue valid submissions.

Every process and thread started here is stopped in the fixture's ``finally``.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from collections.abc import Iterator
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
from tests.support.faultproxy import FaultProxy

__all__ = ["valid_answers"]  # the e2e tests import it from here

SERVICE_ID = "residence-permit"


@dataclass
class Central:
    """A running platform: its URL, data folder and process (restartable)."""

    url: str
    data_dir: Path
    proc: subprocess.Popen[str]
    catalog_dir: Path | None = None

    def submissions(self) -> list[dict[str, Any]]:
        """``kiosk-central submissions list --json``."""
        result: list[dict[str, Any]] = central_json(self.data_dir, "submissions", "list")
        return result

    def show(self, key: str) -> dict[str, Any]:
        """``kiosk-central submissions show KEY --json`` (with the decrypted answers)."""
        result: dict[str, Any] = central_json(self.data_dir, "submissions", "show", key)
        return result

    def set_status(self, case_no: str, status: str, note: str | None = None) -> None:
        args = ["case", "set-status", case_no, status]
        if note:
            args += ["--note", note]
        done = central_cli(self.data_dir, *args)
        assert done.returncode == 0, done.stderr

    def new_code(self, site: str = "SZ01") -> str:
        return create_enrolment_code(self.data_dir, site)

    def restart(self, catalog_dir: Path | None = None) -> None:
        """Stop the server and start it again on the same data (with another catalog)."""
        stop_central_process(self.proc)
        self.catalog_dir = catalog_dir
        self.url, self.proc = start_central_process(self.data_dir, catalog_dir)


@pytest.fixture(scope="session")
def bundled_catalog() -> Catalog:
    """The bundled service catalog, loaded once."""
    return load_catalog(DEFAULT_CATALOG_DIR)


@pytest.fixture(scope="module")
def central(
    tmp_path_factory: pytest.TempPathFactory, central_database: str | None
) -> Iterator[Central]:
    """The real platform on 127.0.0.1, one per test module (and database, see
    ``central_database``)."""
    data_dir = use_database(tmp_path_factory.mktemp("e2e-central") / "central", central_database)
    url, proc = start_central_process(data_dir)
    platform = Central(url, data_dir, proc)
    try:
        yield platform
    finally:
        stop_central_process(platform.proc)


@pytest.fixture
def proxy(central: Central) -> Iterator[FaultProxy]:
    """A fault proxy in front of the platform (pass-through until told otherwise)."""
    with FaultProxy(central.url, retry_after="1", slow_seconds=1.5, max_lifetime=240) as p:
        yield p


@dataclass
class Terminal:
    """An enrolled terminal store talking to the platform through ``url``."""

    data_dir: Path
    store: Store
    url: str
    catalog: Catalog
    rng: random.Random = field(default_factory=lambda: random.Random(7))

    def client(self, **kwargs: Any) -> CentralClient:
        enrolment = self.store.require_enrolment()
        kwargs.setdefault("read_timeout", 5.0)
        kwargs.setdefault("connect_timeout", 2.0)
        return CentralClient(self.url, token=enrolment.token, **kwargs)

    def submit(self, service_id: str = SERVICE_ID, *, is_test: bool = False) -> dict[str, str]:
        """Queue one valid submission (with real attachments) as the kiosk would."""
        answers, files = valid_answers(self.catalog, service_id, self.rng)
        definition = self.catalog.get(service_id)
        result = self.store.enqueue(
            service_id,
            definition.version,
            answers,
            attachments=files,
            is_test=is_test,
            service_name={"zh_CN": definition.name.zh_CN, "en": definition.name.en},
        )
        return {"submission_id": result.submission_id, "receipt_no": result.receipt_no}

    def sync(self, **options: Any) -> SyncReport:
        """One engine cycle in-process (backoff ignored unless told otherwise)."""
        options.setdefault("ignore_backoff", True)
        now = options.pop("now", None)
        with self.client() as client:
            return run_once(self.store, client, now=now, options=SyncOptions(**options))

    def drain(self, max_cycles: int = 40, **options: Any) -> list[SyncReport]:
        """Sync until nothing is pending (bounded); returns every cycle's report."""
        reports = []
        for _ in range(max_cycles):
            report = self.sync(**options)
            reports.append(report)
            if report.pending == 0 and not report.busy:
                break
        return reports


@pytest.fixture
def terminal(
    tmp_path: Path, central: Central, proxy: FaultProxy, bundled_catalog: Catalog
) -> Iterator[Terminal]:
    """A fresh terminal enrolled at the platform through the fault proxy."""
    data_dir = tmp_path / "terminal"
    store = open_store(database_path(data_dir))
    try:
        with CentralClient(proxy.url) as client:
            enrol_terminal(store, client, central.new_code())
        yield Terminal(data_dir, store, proxy.url, bundled_catalog)
    finally:
        store.close()


def on_central(central: Central, terminal: Terminal) -> list[dict[str, Any]]:
    """The platform's submissions that came from ``terminal`` (its device id)."""
    device_id = terminal.store.require_enrolment().device_id
    return [s for s in central.submissions() if s.get("device_id") == device_id]


def changed_catalog(tmp_path: Path) -> Path:
    """A copy of the bundled catalog minus one service: a new catalog version."""
    folder = tmp_path / "catalog-v2"
    shutil.copytree(DEFAULT_CATALOG_DIR, folder, ignore=shutil.ignore_patterns("__*", "*.py"))
    services = sorted((folder / "services").glob("*.yaml"))
    dropped = next(p for p in services if p.stem != SERVICE_ID)
    dropped.unlink()
    return folder


def parse_json_output(stdout: str) -> Any:
    """The JSON a ``--json`` command printed."""
    return json.loads(stdout)
