"""The signed catalog reaches the terminal; a tampered one never replaces the one in use."""

from __future__ import annotations

from pathlib import Path

import pytest

from forms import load_catalog
from sync.catalog_update import apply_bundle, current_catalog
from tests.e2e.conftest import Central, Terminal, changed_catalog
from tests.support.faultproxy import FaultProxy, Mode

pytestmark = pytest.mark.slow


def test_tampered_catalog_is_rejected_and_the_previous_stays_in_use(
    tmp_path: Path, central: Central, proxy: FaultProxy, terminal: Terminal
) -> None:
    root = terminal.data_dir / "catalog"
    first = terminal.sync(catalog_root=root, validate_catalog=load_catalog)
    assert first.catalog == "updated"
    v1 = current_catalog(root)
    assert v1 is not None and v1.version == first.catalog_version

    # Nothing new: the ETag makes the platform answer 304.
    again = terminal.sync(catalog_root=root)
    assert again.catalog == "unchanged"
    assert proxy.events[-1].path == "/v1/catalog" and proxy.events[-1].status == 304

    # The platform publishes a new catalog; on the way one byte of it is changed.
    central.restart(changed_catalog(tmp_path))
    proxy.set_upstream(central.url)
    for mode in (Mode.FLIP_BYTE, Mode.TRUNCATE_BODY, Mode.TRUNCATE):
        proxy.set_mode(mode, path_prefix="/v1/catalog")
        report = terminal.sync(catalog_root=root, validate_catalog=load_catalog)
        assert report.catalog in ("rejected", "failed"), (mode, report)
        assert report.errors
        assert current_catalog(root) == v1
    load_catalog(root / "current")  # the kiosk can still load the one in use
    assert terminal.store.current_catalog_version().version == v1.version

    # The untouched bundle is applied.
    proxy.set_mode(Mode.PASS)
    updated = terminal.sync(catalog_root=root, validate_catalog=load_catalog)
    assert updated.catalog == "updated" and updated.catalog_version != v1.version
    assert current_catalog(root).version == updated.catalog_version
    assert len(load_catalog(root / "current").services) == len(
        load_catalog(root / "versions" / v1.version).services
    ) - 1
    assert terminal.store.current_catalog_version().version == updated.catalog_version


def test_a_catalog_switched_but_not_recorded_before_a_kill_is_recorded_by_the_next_cycle(
    central: Central, terminal: Terminal
) -> None:
    # What SIGKILL between apply_bundle's switch and record_catalog_version leaves behind:
    # the new catalog is live on disk, the store (and its audit log) does not know it.
    root = terminal.data_dir / "catalog"
    enrolment = terminal.store.require_enrolment()
    with terminal.client() as client:
        fetched = client.get_catalog(None)
    assert fetched is not None
    applied = apply_bundle(fetched[0], enrolment.catalog_signing_key, root, etag=fetched[1])
    assert terminal.store.current_catalog_version() is None

    report = terminal.sync(catalog_root=root, validate_catalog=load_catalog)
    assert report.catalog == "unchanged"  # nothing new to fetch (ETag), yet:
    recorded = terminal.store.current_catalog_version()
    assert recorded is not None and recorded.version == applied.version
    assert [e.action for e in terminal.store.audit_entries()].count("catalog-applied") == 1
    terminal.sync(catalog_root=root)  # recorded once, not on every cycle
    assert [e.action for e in terminal.store.audit_entries()].count("catalog-applied") == 1
