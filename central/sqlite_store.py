"""SQLite backend of the central store: :class:`SQLiteStore`.

One database file in the data folder (``central.sqlite3``), WAL mode, foreign keys on,
forward-only migrations tracked in ``PRAGMA user_version``. The store's logic is the
shared SQL of :class:`central.sql_store.SQLStore`; this module adds the schema and the
connections: one per request thread, kept. Every write runs in a ``BEGIN IMMEDIATE``
transaction: SQLite has one writer at a time, so writes are serialised and the status
feed's cursor (an AUTOINCREMENT key) becomes visible to readers strictly in order.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from central.sql_store import SQLStore
from central.store import StoreError

log = logging.getLogger(__name__)

DB_FILE = "central.sqlite3"

_MIGRATIONS: tuple[str, ...] = (
    # 1: the first schema
    """
    CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE enrolment_codes (
        code_hash TEXT PRIMARY KEY,
        site_code TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        used_at TEXT,
        device_id TEXT
    );
    CREATE TABLE devices (
        device_id TEXT PRIMARY KEY,
        device_code TEXT NOT NULL UNIQUE,
        site_code TEXT NOT NULL,
        token_hash TEXT NOT NULL UNIQUE,
        name TEXT,
        enrolled_at TEXT NOT NULL,
        revoked_at TEXT
    );
    CREATE TABLE catalog_versions (
        version TEXT PRIMARY KEY,
        created_at TEXT NOT NULL,
        bundle BLOB NOT NULL,
        signature BLOB NOT NULL
    );
    CREATE TABLE form_versions (
        service_id TEXT NOT NULL,
        form_version TEXT NOT NULL,
        definition TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        first_catalog_version TEXT NOT NULL,
        PRIMARY KEY (service_id, form_version)
    );
    CREATE TABLE submissions (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        submission_id TEXT NOT NULL UNIQUE,
        case_no TEXT UNIQUE,
        service_id TEXT NOT NULL,
        form_version TEXT NOT NULL,
        receipt_no TEXT NOT NULL UNIQUE,
        device_id TEXT NOT NULL REFERENCES devices(device_id),
        site_code TEXT NOT NULL,
        created_at TEXT NOT NULL,
        received_at TEXT NOT NULL,
        is_test INTEGER NOT NULL,
        answers TEXT NOT NULL,
        status TEXT NOT NULL,
        status_note TEXT,
        status_changed_at TEXT NOT NULL
    );
    CREATE TABLE attachments (
        sha256 TEXT PRIMARY KEY,
        size INTEGER NOT NULL,
        stored_at TEXT NOT NULL
    );
    CREATE TABLE submission_attachments (
        submission_id TEXT NOT NULL REFERENCES submissions(submission_id),
        sha256 TEXT NOT NULL,
        PRIMARY KEY (submission_id, sha256)
    );
    CREATE TABLE uploads (
        device_id TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        length INTEGER NOT NULL,
        PRIMARY KEY (device_id, sha256)
    );
    CREATE TABLE status_changes (
        cursor INTEGER PRIMARY KEY AUTOINCREMENT,
        submission_id TEXT NOT NULL REFERENCES submissions(submission_id),
        status TEXT NOT NULL,
        note TEXT,
        changed_at TEXT NOT NULL
    );
    CREATE INDEX status_changes_by_submission ON status_changes(submission_id, cursor);
    """,
    # 2: the hall: appointments, check-ins, ratings, audit events, help requests; the agent
    # who submitted on a citizen's behalf
    """
    ALTER TABLE submissions ADD COLUMN agent_id TEXT;
    CREATE TABLE appointments (
        appointment_id TEXT PRIMARY KEY,
        service_id TEXT NOT NULL,
        slot TEXT NOT NULL,
        masked_name TEXT NOT NULL,
        hall TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        created_at TEXT NOT NULL,
        used_at TEXT,
        used_by_checkin TEXT,
        used_cursor INTEGER UNIQUE
    );
    CREATE INDEX appointments_by_hall_cursor ON appointments(hall, used_cursor);
    CREATE TABLE checkins (
        checkin_id TEXT PRIMARY KEY,
        device_id TEXT NOT NULL REFERENCES devices(device_id),
        site_code TEXT NOT NULL,
        kind TEXT NOT NULL,
        appointment_id TEXT,
        service_id TEXT,
        category TEXT,
        ticket_no TEXT NOT NULL,
        checked_in_at TEXT NOT NULL,
        received_at TEXT NOT NULL
    );
    CREATE TABLE ratings (
        device_id TEXT NOT NULL REFERENCES devices(device_id),
        rating_id INTEGER NOT NULL,
        site_code TEXT NOT NULL,
        service_id TEXT NOT NULL,
        receipt_no TEXT,
        score INTEGER NOT NULL,
        tags TEXT NOT NULL,
        created_at TEXT NOT NULL,
        received_at TEXT NOT NULL,
        PRIMARY KEY (device_id, rating_id)
    );
    CREATE TABLE audit_events (
        device_id TEXT NOT NULL REFERENCES devices(device_id),
        seq INTEGER NOT NULL,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        submission_id TEXT,
        detail TEXT,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL,
        chain_ok INTEGER NOT NULL,
        received_at TEXT NOT NULL,
        PRIMARY KEY (device_id, seq)
    );
    CREATE TABLE help_requests (
        request_id TEXT PRIMARY KEY,
        device_id TEXT NOT NULL REFERENCES devices(device_id),
        site_code TEXT NOT NULL,
        reason TEXT NOT NULL,
        raised_at TEXT NOT NULL,
        received_at TEXT NOT NULL,
        acknowledged_at TEXT,
        acknowledged_by TEXT
    );
    CREATE INDEX help_requests_open ON help_requests(site_code, acknowledged_at);
    """,
)


class SQLiteStore(SQLStore):
    """The platform's data in one SQLite file (see module docstring)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._migrate()

    # --- plumbing ---------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA busy_timeout = 30000")
        conn.execute("PRAGMA synchronous = FULL")
        return conn

    def _thread_connection(self) -> sqlite3.Connection:
        # One connection per thread, kept: request threads are long-lived and opening a
        # connection (with its PRAGMAs) costs more than most queries here.
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
        return conn

    def reading(self) -> AbstractContextManager[sqlite3.Connection]:
        """This thread's connection for reads (for the platform's companion stores)."""
        return self._reading()

    def writing(self) -> AbstractContextManager[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE`` write transaction (for the platform's companion stores)."""
        return self._writing()

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        yield self._thread_connection()

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        conn = self._thread_connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def close(self) -> None:
        """Close this thread's connection (others close when their threads end)."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def _migrate(self) -> None:
        conn = self._connect()
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > len(_MIGRATIONS):
                raise StoreError(
                    f"database {self.path} has schema version {version}, newer than this "
                    f"program ({len(_MIGRATIONS)}): upgrade kiosk-central"
                )
            for number, script in enumerate(_MIGRATIONS[version:], start=version + 1):
                log.info("Migrating %s to schema version %d", self.path, number)
                # executescript commits on its own; the version bump is part of the script.
                conn.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")
        finally:
            conn.close()
