"""PostgreSQL backend of the central store: :class:`PostgresStore`.

For a platform that outgrows one SQLite file (many halls, several server processes). The
store's logic is the shared SQL of :class:`central.sql_store.SQLStore`; this module adds
the schema, a connection pool (psycopg 3) and the transactions:

* submissions are ingested concurrently: each row goes in with ``INSERT ... ON CONFLICT DO
  NOTHING`` inside the batch's transaction, so the same submission arriving twice at the
  same moment is stored once (the second insert waits for the first and then finds it);
* a status change is written under a transaction-level advisory lock held to the commit
  (:data:`STATUS_FEED_LOCK`), so feed cursors become visible strictly in order, as they do
  in SQLite; the lock is taken after a batch's rows are in, so it is held briefly;
* every other write (enrolment, catalog, case status, attachments, the hall's records)
  runs alone among writers under :data:`WRITER_LOCK`, the equivalent of SQLite's
  ``BEGIN IMMEDIATE``, which the hall records' checks rely on.

The schema mirrors SQLite's table for table and column for column (times as ISO-8601 UTC
text, JSON as text, ``BYTEA`` for the signed catalog) and is versioned in the table
``schema_version``; migrations run at start-up under :data:`MIGRATION_LOCK`, so several
server processes may start at once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import psycopg
import psycopg.errors
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool, PoolTimeout

from central.sql_store import SQLStore, refuse_nul
from central.store import StoreError

log = logging.getLogger(__name__)

# Transaction-level advisory lock keys (arbitrary constants, "TB" + a number).
WRITER_LOCK = 0x5442_0001
STATUS_FEED_LOCK = 0x5442_0002
MIGRATION_LOCK = 0x5442_0003

DEFAULT_POOL_SIZE = 16
CONNECT_TIMEOUT = 10  # seconds, for the first connection at start-up

_MIGRATIONS: tuple[str, ...] = (
    # 1: the schema of SQLite's versions 1 and 2 (platform + hall records)
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
        bundle BYTEA NOT NULL,
        signature BYTEA NOT NULL
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
        seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        submission_id TEXT NOT NULL UNIQUE,
        case_no TEXT UNIQUE,
        service_id TEXT NOT NULL,
        form_version TEXT NOT NULL,
        receipt_no TEXT NOT NULL UNIQUE,
        device_id TEXT NOT NULL REFERENCES devices(device_id),
        site_code TEXT NOT NULL,
        created_at TEXT NOT NULL,
        received_at TEXT NOT NULL,
        is_test SMALLINT NOT NULL,
        answers TEXT NOT NULL,
        status TEXT NOT NULL,
        status_note TEXT,
        status_changed_at TEXT NOT NULL,
        agent_id TEXT
    );
    CREATE TABLE attachments (
        sha256 TEXT PRIMARY KEY,
        size BIGINT NOT NULL,
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
        length BIGINT NOT NULL,
        PRIMARY KEY (device_id, sha256)
    );
    CREATE TABLE status_changes (
        cursor BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        submission_id TEXT NOT NULL REFERENCES submissions(submission_id),
        status TEXT NOT NULL,
        note TEXT,
        changed_at TEXT NOT NULL
    );
    CREATE INDEX status_changes_by_submission ON status_changes(submission_id, cursor);
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
        used_cursor BIGINT UNIQUE
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
        rating_id BIGINT NOT NULL,
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
        seq BIGINT NOT NULL,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        submission_id TEXT,
        detail TEXT,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL,
        chain_ok SMALLINT NOT NULL,
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


def describe(url: str) -> str:
    """The database a URL names, for messages: host, port and database, never the password."""
    try:
        parts = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "the PostgreSQL database (unreadable URL)"
    host = parts.get("host") or "localhost"
    port = f":{parts['port']}" if parts.get("port") else ""
    return f"PostgreSQL database {parts.get('dbname') or '(default)'} on {host}{port}"


class _Row(Sequence[Any]):
    """A result row like ``sqlite3.Row``: by position or by column name, with ``keys()``."""

    __slots__ = ("_index", "_values")

    def __init__(self, values: Sequence[Any], index: dict[str, int]) -> None:
        self._values = values
        self._index = index

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return self._values[self._index[key]]
        return self._values[key]

    def __len__(self) -> int:
        return len(self._values)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def keys(self) -> list[str]:
        """The column names."""
        return list(self._index)


def _row_factory(cursor: Any) -> Any:
    description = cursor.description or ()
    index = {column.name: i for i, column in enumerate(description)}
    return lambda values: _Row(values, index)


@lru_cache(maxsize=512)
def _pg_sql(sql: str) -> str:
    """The shared SQL's ``?`` placeholders as psycopg's ``%s``."""
    return sql.replace("%", "%%").replace("?", "%s")


class _Connection:
    """A psycopg connection that speaks the shared SQL (``?`` placeholders)."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> psycopg.Cursor[Any]:
        """Run one statement; the cursor holds its rows."""
        refuse_nul(parameters)
        return self._conn.execute(_pg_sql(sql), parameters)  # type: ignore[arg-type]

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> None:
        """Run one statement for each parameter set."""
        rows = list(parameters)
        for row in rows:
            refuse_nul(row)
        with self._conn.cursor() as cursor:
            cursor.executemany(_pg_sql(sql), rows)  # type: ignore[arg-type]


class PostgresStore(SQLStore):
    """The platform's data in a PostgreSQL database (see module docstring)."""

    retryable_errors = (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure)

    def __init__(self, url: str, *, pool_size: int = DEFAULT_POOL_SIZE) -> None:
        self.url = url
        self.description = describe(url)
        self._migrate()
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=pool_size,
            kwargs={"autocommit": True, "row_factory": _row_factory},
            name="central-store",
            open=False,
        )
        self._pool.open()
        try:
            self._pool.wait(timeout=CONNECT_TIMEOUT)
        except PoolTimeout as exc:
            self._pool.close()
            raise StoreError(f"cannot connect to the {self.description}") from exc

    # --- plumbing ---------------------------------------------------------------------------
    def close(self) -> None:
        """Close every pooled connection."""
        self._pool.close()

    @contextmanager
    def reading(self) -> Iterator[_Connection]:
        """A pooled connection for reads (each statement sees what is committed)."""
        with self._pool.connection() as conn:
            yield _Connection(conn)

    @contextmanager
    def writing(self) -> Iterator[_Connection]:
        """A transaction that runs alone among writers (:data:`WRITER_LOCK`)."""
        with self._pool.connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITER_LOCK,))
            yield _Connection(conn)

    @contextmanager
    def _ingesting(self) -> Iterator[_Connection]:
        with self._pool.connection() as conn, conn.transaction():
            yield _Connection(conn)

    def _lock_status_feed(self, conn: Any) -> None:
        conn.execute("SELECT pg_advisory_xact_lock(?)", (STATUS_FEED_LOCK,))

    def _migrate(self) -> None:
        try:
            conn = psycopg.connect(self.url, connect_timeout=CONNECT_TIMEOUT, autocommit=True)
        except psycopg.OperationalError as exc:
            # libpq's message, on one line (it names host and port, never the password)
            reason = " ".join(line.strip() for line in str(exc).splitlines()) or type(exc).__name__
            raise StoreError(f"cannot connect to the {self.description}: {reason}") from exc
        try:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
                conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
                row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
                version = int(row[0]) if row and row[0] is not None else 0
                if version > len(_MIGRATIONS):
                    raise StoreError(
                        f"the {self.description} has schema version {version}, newer than "
                        f"this program ({len(_MIGRATIONS)}): upgrade kiosk-central"
                    )
                for number, script in enumerate(_MIGRATIONS[version:], start=version + 1):
                    log.info("Migrating the %s to schema version %d", self.description, number)
                    conn.execute(script)  # type: ignore[arg-type]
                    conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (number,))
        finally:
            conn.close()
