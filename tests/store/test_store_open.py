"""Opening the store: created and migrated on first use, durable settings, refusals that say why."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from sync.migrations import LATEST_VERSION, MIGRATIONS
from sync.store import StoreError, database_path, open_store

TABLES = {
    "schema_version",
    "settings",
    "submissions",
    "attachments",
    "outbox",
    "receipt_counters",
    "case_status",
    "catalog_versions",
    "ratings",
    "audit_log",
}


def test_an_empty_folder_gets_a_database_at_the_latest_schema(data_dir: Path) -> None:
    path = database_path(data_dir)
    with open_store(path) as store:
        assert TABLES <= set(store.db.table_names())
        versions = [row[0] for row in store.db.execute("SELECT version FROM schema_version")]
        assert versions == [m.version for m in MIGRATIONS]
        assert store.integrity_check() == ["ok"]
    assert path.is_file()


def test_every_connection_is_durable_wal_with_foreign_keys(data_dir: Path) -> None:
    with open_store(database_path(data_dir)) as store:
        pragma = {
            name: store.db.execute(f"PRAGMA {name}").fetchone()[0]
            for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
        }
    assert pragma["journal_mode"] == "wal"
    assert pragma["synchronous"] == 2  # FULL
    assert pragma["foreign_keys"] == 1
    assert pragma["busy_timeout"] >= 1000


def test_reopening_keeps_data_and_does_not_migrate_again(data_dir: Path) -> None:
    path = database_path(data_dir)
    with open_store(path) as store:
        store.set_setting("status_cursor", "42")
    with open_store(path) as store:
        assert store.get_setting("status_cursor") == "42"
        count = store.db.execute("SELECT COUNT(*) FROM schema_version").fetchone()[0]
    assert count == len(MIGRATIONS)


def test_a_database_from_a_newer_tongban_is_refused_naming_the_file(data_dir: Path) -> None:
    path = database_path(data_dir)
    open_store(path).close()
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(
            "INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)",
            (LATEST_VERSION + 1, "from the future", "2030-01-01T00:00:00.000000Z"),
        )
    conn.close()
    with pytest.raises(StoreError) as caught:
        open_store(path)
    message = str(caught.value)
    assert str(path) in message
    assert "written by a newer Tongban" in message
    assert "update the software" in message


def test_a_file_that_is_not_a_database_is_refused_naming_the_file(data_dir: Path) -> None:
    path = database_path(data_dir)
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match=str(path)):
        open_store(path)


def test_two_processes_opening_a_new_database_at_once_migrate_it_once(data_dir: Path) -> None:
    path = database_path(data_dir)
    code = (
        "import sys; from pathlib import Path; from sync.store import open_store; "
        "open_store(Path(sys.argv[1])).close()"
    )
    children = [
        subprocess.Popen([sys.executable, "-c", code, str(path)], stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    errors = [child.communicate(timeout=60)[1] for child in children]
    assert all(child.returncode == 0 for child in children), errors
    with open_store(path) as store:
        count = store.db.execute("SELECT COUNT(*) FROM schema_version").fetchone()[0]
    assert count == len(MIGRATIONS)


def test_the_enrolment_setting_cannot_be_overwritten_as_a_plain_setting(data_dir: Path) -> None:
    with open_store(database_path(data_dir)) as store, pytest.raises(ValueError):
        store.set_setting("enrolment", "{}")
