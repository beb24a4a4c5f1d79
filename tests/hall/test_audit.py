"""The hash-chained audit log: tampering is detected here and at the platform."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlite_utils import Database

from sync.audit import AuditAction, list_entries, verify_chain
from sync.migrations import MIGRATIONS, VERSION_TABLE
from sync.store import Store, database_path, open_store
from sync.store_common import to_db_time
from tests.hall.conftest import Central, Terminal
from tests.support.cli import run_cli

NOW = datetime(2030, 5, 20, 1, 0, tzinfo=UTC)


@pytest.fixture
def logged(tmp_path: Path) -> Store:
    """A store with six audit entries."""
    store = open_store(database_path(tmp_path / "t"))
    for i in range(6):
        store.audit(AuditAction.REPRINT, actor="agent1", detail=f"receipt job {i}", now=NOW + timedelta(minutes=i))
    return store


def test_intact_log_verifies(logged: Store) -> None:
    report = verify_chain(logged)
    assert report.ok and report.entries == 6
    entries = list_entries(logged)
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5, 6]
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(entries))


def test_edited_entry_is_found(logged: Store) -> None:
    with logged.transaction() as db:
        db.execute("UPDATE audit_log SET detail = 'nothing happened' WHERE id = 3")
    report = verify_chain(logged)
    assert not report.ok and report.broken_seq == 3
    assert "edited" in (report.problem or "")


def test_deleted_entry_is_found(logged: Store) -> None:
    with logged.transaction() as db:
        db.execute("DELETE FROM audit_log WHERE id = 4")
    report = verify_chain(logged)
    assert not report.ok and report.broken_seq == 5
    assert "deleted" in (report.problem or "")


def test_deleted_and_renumbered_entries_are_found(logged: Store) -> None:
    with logged.transaction() as db:
        db.execute("DELETE FROM audit_log WHERE id = 2")
        for seq in range(3, 7):
            db.execute("UPDATE audit_log SET id = ? WHERE id = ?", (seq - 1, seq))
    report = verify_chain(logged)
    assert not report.ok and report.broken_seq == 2


def test_reordered_entries_are_found(logged: Store) -> None:
    with logged.transaction() as db:  # swap entries 2 and 5 (ids stay in order)
        db.execute("UPDATE audit_log SET id = -2 WHERE id = 2")
        db.execute("UPDATE audit_log SET id = 2 WHERE id = 5")
        db.execute("UPDATE audit_log SET id = 5 WHERE id = -2")
    report = verify_chain(logged)
    assert not report.ok and report.broken_seq == 2


def test_migration_chains_entries_written_before_it(tmp_path: Path) -> None:
    path = database_path(tmp_path / "old")
    path.parent.mkdir(parents=True)
    db = Database(str(path))
    for migration in MIGRATIONS[:2]:  # a database of the previous release
        migration.apply(db)
        db.execute(f"INSERT INTO {VERSION_TABLE} VALUES (?, ?, ?)",
                   (migration.version, migration.description, to_db_time(NOW)))
    for i in range(3):
        db.execute("INSERT INTO audit_log (at, actor, action, detail) VALUES (?, 'system', 'enrolled', ?)",
                   (to_db_time(NOW + timedelta(seconds=i)), f"old {i}"))
    db.conn.commit()
    db.close()
    with open_store(path) as store:
        store.audit(AuditAction.CONFIG_CHANGE, detail="new", now=NOW)
        report = verify_chain(store)
        assert report.ok and report.entries == 4


def test_kiosk_audit_verify_cli_reports_ok_then_the_broken_entry(logged: Store) -> None:
    data_dir = logged.path.parent
    done = run_cli("audit", "verify", "--json", data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    assert '"ok": true' in done.stdout
    with logged.transaction() as db:
        db.execute("UPDATE audit_log SET actor = 'someone-else' WHERE id = 2")
    done = run_cli("audit", "verify", data_dir=data_dir)
    assert done.returncode == 1
    assert "BROKEN at entry 2" in done.stdout
    listed = run_cli("audit", "list", "--action", "reprint", data_dir=data_dir)
    assert listed.stdout.count("reprint") == 6


def test_audit_entries_sync_once_and_the_platform_verifies_the_chain(central: Central, terminal: Terminal) -> None:
    for i in range(3):
        terminal.store.audit(AuditAction.REPRINT, actor="agent1", detail=f"job {i}")
    terminal.sync()
    with terminal.store.reading() as db:
        assert db.execute("SELECT COUNT(*) FROM audit_log WHERE synced_at IS NULL").fetchone()[0] == 0
    with terminal.store.transaction() as db:  # a lost answer: everything is sent again
        db.execute("UPDATE audit_log SET synced_at = NULL")
    assert not [e for e in terminal.sync().errors if "audit" in e]
    done = central.cli("audit", "verify", "--device", terminal.device_id, "--json")
    assert done.returncode == 0, done.stdout
    assert '"ok": true' in done.stdout


def test_platform_flags_an_entry_edited_before_it_was_sent(central: Central, terminal: Terminal) -> None:
    terminal.store.audit(AuditAction.DEAD_CANCEL, actor="super1", detail="duplicate of another case")
    terminal.sync()
    terminal.store.audit(AuditAction.REPRINT, actor="agent1", detail="job 1")
    with terminal.store.transaction() as db:
        db.execute("UPDATE audit_log SET detail = 'job 2' WHERE id = (SELECT MAX(id) FROM audit_log)")
    report = terminal.sync()
    assert any("chain broken" in e for e in report.errors)
    done = central.cli("audit", "verify", "--device", terminal.device_id)
    assert done.returncode == 1 and "BROKEN" in done.stdout
