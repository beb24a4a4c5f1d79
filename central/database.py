"""Which database the platform keeps its data in, and opening it.

By default the data live in ``central.sqlite3`` in the data folder. A PostgreSQL database
is chosen by its URL (``postgresql://USER:PASSWORD@HOST:PORT/DBNAME``, or with
``?host=/run/postgresql`` for a Unix socket), from the first of:

1. ``kiosk-central --database URL`` (or ``create_app(..., database=URL)``);
2. the environment variable ``KIOSK_CENTRAL_DATABASE``;
3. the key ``database`` in ``central.toml`` in the data folder, so that every command run
   on that data folder (``serve`` and the administrative ones) uses the same database.

An empty value means SQLite. ``docs/central.md`` is the technician's guide.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from central.sql_store import SQLStore
from central.store import StoreError

DATABASE_ENV = "KIOSK_CENTRAL_DATABASE"
CONFIG_FILE = "central.toml"
_CONFIG_KEYS = {"database"}
_SCHEMES = ("postgresql://", "postgres://")


def database_url(data_dir: Path, explicit: str | None = None) -> str | None:
    """The PostgreSQL URL to use, or ``None`` for SQLite in the data folder.

    Raises:
        StoreError: ``central.toml`` is unreadable or has an unknown key, or the URL is
            not a PostgreSQL one.
    """
    if explicit is not None:
        value, source = explicit, "--database"
    elif os.environ.get(DATABASE_ENV) is not None:
        value, source = os.environ[DATABASE_ENV], DATABASE_ENV
    else:
        value, source = _from_config(Path(data_dir) / CONFIG_FILE)
    value = value.strip()
    if not value:
        return None
    if not value.startswith(_SCHEMES):
        raise StoreError(
            f"{source}: {value.split('://')[0]!r} is not a database this platform uses; give "
            "a URL like postgresql://USER@HOST:5432/DBNAME, or nothing for SQLite"
        )
    return value


def _from_config(path: Path) -> tuple[str, str]:
    if not path.exists():
        return "", str(path)
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise StoreError(f"cannot read {path}: {exc}") from exc
    unknown = sorted(set(data) - _CONFIG_KEYS)
    if unknown:
        raise StoreError(f"{path}: unknown key {unknown[0]!r} (known: database)")
    value = data.get("database", "")
    if not isinstance(value, str):
        raise StoreError(f"{path}: 'database' must be a string (a postgresql:// URL)")
    return value, f"{path}: database"


def open_store(data_dir: Path, database: str | None = None) -> SQLStore:
    """The platform's store: PostgreSQL if one is configured (see module docstring), else
    the SQLite file in ``data_dir``.

    Raises:
        StoreError: the configuration is wrong, the database cannot be reached, or its
            schema is newer than this program.
    """
    url = database_url(data_dir, database)
    if url is None:
        from central.sqlite_store import DB_FILE, SQLiteStore

        return SQLiteStore(Path(data_dir) / DB_FILE)
    from central.postgres_store import PostgresStore

    return PostgresStore(url)
