"""The central store's logic in SQL, shared by the SQLite and PostgreSQL backends.

:class:`SQLStore` implements :class:`central.store.CentralStore` once, in SQL that both
databases run unchanged (``?`` placeholders, ``INSERT ... ON CONFLICT``, ``RETURNING``),
with one mapping from rows to records. A backend supplies what really differs:

* connections and transactions: :meth:`SQLStore.reading` (a connection for reads),
  :meth:`SQLStore.writing` (a transaction that runs alone among writers, like SQLite's
  ``BEGIN IMMEDIATE``; the hall records and the rare administrative writes use it) and
  :meth:`SQLStore._ingesting` (the transaction :meth:`SQLStore.insert_submissions` runs in,
  which may run concurrently with others where the database allows it);
* :meth:`SQLStore._lock_status_feed`: taken before a status change is written, held to the
  commit, so feed cursors become visible to readers strictly in order (a terminal pulling
  "changes after cursor N" must never miss one committed later with a smaller cursor);
* the schema and its migrations (see ``central/sqlite_store.py`` and
  ``central/postgres_store.py``; both keep times as ISO-8601 UTC text and JSON as text, so
  a row maps to the same record whichever database it came from).

Connections handed out behave like :class:`sqlite3.Connection`: ``execute(sql, params)``
returns a cursor with ``fetchone``, ``fetchall``, iteration and ``rowcount``, and rows are
indexable by position and by column name.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from central.store import (
    AttachmentRecord,
    CaseNotFound,
    Device,
    EnrolmentCode,
    EnrolmentCodeExpired,
    EnrolmentCodeUnknown,
    EnrolmentCodeUsed,
    FormDefinitionRecord,
    FormVersionConflict,
    InsertOutcome,
    NewSubmission,
    PublishedCatalog,
    StatusChangeRecord,
    StoreError,
    SubmissionRecord,
    TextNotStorable,
)
from sync.protocol import CaseStatus

log = logging.getLogger(__name__)

# Case numbers carry the date of receipt in the service halls' time zone.
CASE_TZ = ZoneInfo("Asia/Shanghai")
_CURRENT_CATALOG = "current_catalog_version"
# A batch that loses a deadlock (or a serialisation conflict) is run again from the start.
_INGEST_ATTEMPTS = 5


def refuse_nul(parameters: Sequence[Any]) -> None:
    """Raise :class:`~central.store.TextNotStorable` if a text parameter holds U+0000."""
    for value in parameters:
        if isinstance(value, str) and "\x00" in value:
            raise TextNotStorable("text may not contain the NUL character (U+0000)")


class Row(Protocol):
    """A result row: by position or by column name."""

    def __getitem__(self, key: int | str) -> Any: ...

    def keys(self) -> list[str]: ...


class Cursor(Protocol):
    """What the shared SQL needs of a cursor."""

    rowcount: int

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """What the shared SQL needs of a connection (``sqlite3.Connection`` has it)."""

    def execute(self, sql: str, parameters: Sequence[Any] = ..., /) -> Any: ...

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> Any: ...


def _ts(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None


def _dt_req(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _placeholders(count: int) -> str:
    """``?, ?, ?`` for an IN list: the values themselves are always bound parameters."""
    return ", ".join("?" * count)


def case_number(seq: int, received_at: datetime) -> str:
    """The case number of the ``seq``-th submission: ``C`` + date (Asia/Shanghai) + seq.

    Example ``C20250314-0000042``. The sequence never restarts, so numbers are unique.
    """
    return f"C{received_at.astimezone(CASE_TZ):%Y%m%d}-{seq:07d}"


class SQLStore:
    """:class:`central.store.CentralStore` in shared SQL (see module docstring)."""

    #: Errors after which :meth:`insert_submissions` runs its transaction again.
    retryable_errors: tuple[type[BaseException], ...] = ()

    # --- what a backend supplies -------------------------------------------------------------
    def reading(self) -> AbstractContextManager[Connection]:
        """A connection for reads (also for the platform's companion stores)."""
        raise NotImplementedError

    def writing(self) -> AbstractContextManager[Connection]:
        """A write transaction that runs alone among writers (also for companion stores)."""
        raise NotImplementedError

    def _ingesting(self) -> AbstractContextManager[Connection]:
        """The transaction :meth:`insert_submissions` runs in (default: :meth:`writing`)."""
        return self.writing()

    def _lock_status_feed(self, conn: Connection) -> None:
        """Hold the status feed until the commit (nothing to do where writers are serial)."""

    def close(self) -> None:
        """Release the connections."""

    # Shorthands for the methods below.
    def _read(self) -> AbstractContextManager[Connection]:
        return self.reading()

    def _write(self) -> AbstractContextManager[Connection]:
        return self.writing()

    # --- devices and enrolment ----------------------------------------------------------
    @staticmethod
    def _device(row: Row) -> Device:
        return Device(
            device_id=row["device_id"],
            device_code=row["device_code"],
            site_code=row["site_code"],
            name=row["name"],
            enrolled_at=_dt_req(row["enrolled_at"]),
            revoked_at=_dt(row["revoked_at"]),
        )

    def add_enrolment_code(self, code: EnrolmentCode) -> None:
        """Store a new enrolment code (by hash)."""
        with self._write() as conn:
            conn.execute(
                "INSERT INTO enrolment_codes (code_hash, site_code, created_at, expires_at)"
                " VALUES (?, ?, ?, ?)",
                (code.code_hash, code.site_code, _ts(code.created_at), _ts(code.expires_at)),
            )

    def redeem_enrolment_code(
        self,
        code_hash: str,
        *,
        now: datetime,
        device_id: str,
        token_hash: str,
        name: str | None,
        device_code_candidates: list[str],
    ) -> Device:
        """Mark the code used and create the device, atomically."""
        with self._write() as conn:
            row = conn.execute(
                "SELECT site_code, expires_at, used_at FROM enrolment_codes WHERE code_hash = ?",
                (code_hash,),
            ).fetchone()
            if row is None:
                raise EnrolmentCodeUnknown()
            if row["used_at"] is not None:
                raise EnrolmentCodeUsed()
            if _dt_req(row["expires_at"]) <= now:
                raise EnrolmentCodeExpired()
            taken = {
                r[0]
                for r in conn.execute(
                    "SELECT device_code FROM devices WHERE device_code IN"
                    f" ({_placeholders(len(device_code_candidates))})",
                    device_code_candidates,
                )
            }
            free = [c for c in device_code_candidates if c not in taken]
            if not free:
                raise StoreError("no free device code among the candidates; try again")
            conn.execute(
                "INSERT INTO devices (device_id, device_code, site_code, token_hash, name,"
                " enrolled_at) VALUES (?, ?, ?, ?, ?, ?)",
                (device_id, free[0], row["site_code"], token_hash, name, _ts(now)),
            )
            conn.execute(
                "UPDATE enrolment_codes SET used_at = ?, device_id = ? WHERE code_hash = ?",
                (_ts(now), device_id, code_hash),
            )
            device = conn.execute(
                "SELECT * FROM devices WHERE device_id = ?", (device_id,)
            ).fetchone()
            return self._device(device)

    def device_by_token_hash(self, token_hash: str) -> Device | None:
        """The device holding this token, revoked or not."""
        with self._read() as conn:
            row = conn.execute(
                "SELECT * FROM devices WHERE token_hash = ?", (token_hash,)
            ).fetchone()
        return self._device(row) if row else None

    def list_devices(self) -> list[Device]:
        """All devices, oldest enrolment first."""
        with self._read() as conn:
            rows = conn.execute("SELECT * FROM devices ORDER BY enrolled_at, device_id").fetchall()
        return [self._device(r) for r in rows]

    def revoke_device(self, device_id: str, *, now: datetime) -> Device | None:
        """Revoke a device (idempotent); ``None`` if there is no such device."""
        with self._write() as conn:
            conn.execute(
                "UPDATE devices SET revoked_at = ? WHERE device_id = ? AND revoked_at IS NULL",
                (_ts(now), device_id),
            )
            row = conn.execute("SELECT * FROM devices WHERE device_id = ?", (device_id,)).fetchone()
        return self._device(row) if row else None

    # --- settings ---------------------------------------------------------------------------
    def get_setting(self, key: str) -> str | None:
        """A stored setting's value."""
        with self._read() as conn:
            row = conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_setting(self, key: str, value: str) -> None:
        """Store a setting."""
        with self._write() as conn:
            conn.execute(
                "INSERT INTO settings (key, value) VALUES (?, ?)"
                " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    # --- catalog ------------------------------------------------------------------------
    def publish_catalog(
        self, catalog: PublishedCatalog, forms: list[FormDefinitionRecord]
    ) -> PublishedCatalog:
        """Record the forms and make ``catalog`` current, atomically."""
        with self._write() as conn:
            for form in forms:
                row = conn.execute(
                    "SELECT content_hash FROM form_versions WHERE service_id = ? AND form_version = ?",
                    (form.service_id, form.form_version),
                ).fetchone()
                if row is None:
                    conn.execute(
                        "INSERT INTO form_versions (service_id, form_version, definition,"
                        " content_hash, first_catalog_version) VALUES (?, ?, ?, ?, ?)",
                        (
                            form.service_id,
                            form.form_version,
                            json.dumps(form.definition, ensure_ascii=False),
                            form.content_hash,
                            catalog.version,
                        ),
                    )
                elif row["content_hash"] != form.content_hash:
                    raise FormVersionConflict(
                        f"service {form.service_id!r} version {form.form_version!r} was "
                        "published before with different content"
                    )
            conn.execute(
                "INSERT INTO catalog_versions (version, created_at, bundle, signature)"
                " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (catalog.version, _ts(catalog.created_at), catalog.bundle, catalog.signature),
            )
            conn.execute(
                "INSERT INTO settings (key, value) VALUES (?, ?)"
                " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (_CURRENT_CATALOG, catalog.version),
            )
            row = conn.execute(
                "SELECT * FROM catalog_versions WHERE version = ?", (catalog.version,)
            ).fetchone()
        return self._catalog(row)

    @staticmethod
    def _catalog(row: Row) -> PublishedCatalog:
        return PublishedCatalog(
            version=row["version"],
            created_at=_dt_req(row["created_at"]),
            bundle=bytes(row["bundle"]),
            signature=bytes(row["signature"]),
        )

    def current_catalog(self) -> PublishedCatalog | None:
        """The catalog published last, if any."""
        with self._read() as conn:
            row = conn.execute(
                "SELECT c.* FROM catalog_versions c JOIN settings s"
                " ON s.key = ? AND s.value = c.version",
                (_CURRENT_CATALOG,),
            ).fetchone()
        return self._catalog(row) if row else None

    def form_definition(self, service_id: str, form_version: str) -> FormDefinitionRecord | None:
        """A published form version's definition."""
        with self._read() as conn:
            row = conn.execute(
                "SELECT * FROM form_versions WHERE service_id = ? AND form_version = ?",
                (service_id, form_version),
            ).fetchone()
        if row is None:
            return None
        return FormDefinitionRecord(
            service_id=row["service_id"],
            form_version=row["form_version"],
            definition=json.loads(row["definition"]),
            content_hash=row["content_hash"],
        )

    def service_known(self, service_id: str) -> bool:
        """Whether any version of this service was ever published."""
        with self._read() as conn:
            row = conn.execute(
                "SELECT 1 FROM form_versions WHERE service_id = ? LIMIT 1", (service_id,)
            ).fetchone()
        return row is not None

    # --- submissions and case status ------------------------------------------------------
    _SUBMISSION_COLUMNS = (
        "seq, submission_id, case_no, service_id, form_version, receipt_no, device_id,"
        " site_code, created_at, received_at, is_test, status, status_note, status_changed_at,"
        " agent_id"
    )

    @staticmethod
    def _submission(
        row: Row, *, answers: dict[str, Any] | None = None, attachments: tuple[str, ...] = ()
    ) -> SubmissionRecord:
        return SubmissionRecord(
            submission_id=row["submission_id"],
            case_no=row["case_no"],
            service_id=row["service_id"],
            form_version=row["form_version"],
            receipt_no=row["receipt_no"],
            device_id=row["device_id"],
            site_code=row["site_code"],
            created_at=_dt_req(row["created_at"]),
            received_at=_dt_req(row["received_at"]),
            is_test=bool(row["is_test"]),
            status=row["status"],
            status_note=row["status_note"],
            status_changed_at=_dt_req(row["status_changed_at"]),
            answers=answers or {},
            attachments=attachments,
            agent_id=row["agent_id"],
        )

    def _full_submission(self, conn: Connection, where: str, value: str) -> SubmissionRecord | None:
        row = conn.execute(
            f"SELECT {self._SUBMISSION_COLUMNS}, answers FROM submissions WHERE {where} = ?",
            (value,),
        ).fetchone()
        if row is None:
            return None
        hashes = tuple(
            r[0]
            for r in conn.execute(
                "SELECT sha256 FROM submission_attachments WHERE submission_id = ? ORDER BY sha256",
                (row["submission_id"],),
            )
        )
        return self._submission(row, answers=json.loads(row["answers"]), attachments=hashes)

    def existing_submissions(self, submission_ids: list[str]) -> dict[str, SubmissionRecord]:
        """The stored ones among these submission ids (without answers)."""
        found: dict[str, SubmissionRecord] = {}
        with self._read() as conn:
            for start in range(0, len(submission_ids), 500):
                chunk = submission_ids[start : start + 500]
                rows = conn.execute(
                    f"SELECT {self._SUBMISSION_COLUMNS} FROM submissions"
                    f" WHERE submission_id IN ({_placeholders(len(chunk))})",
                    chunk,
                ).fetchall()
                found.update((r["submission_id"], self._submission(r)) for r in rows)
        return found

    def find_submission(self, submission_id: str) -> SubmissionRecord | None:
        """A stored submission by its id."""
        with self._read() as conn:
            return self._full_submission(conn, "submission_id", submission_id)

    def insert_submissions(self, news: list[NewSubmission]) -> list[InsertOutcome]:
        """Store submissions in one transaction; one outcome per submission, in order.

        Each row goes in with ``INSERT ... ON CONFLICT DO NOTHING``: the unique keys
        (submission id, receipt number) decide, inside the transaction, never a look-up
        before the insert. Rows go in in the order given, so case numbers follow the
        terminal's order. Where transactions run concurrently (PostgreSQL) a second insert
        of the same id waits for the first to commit and then finds it; a batch that loses
        a deadlock (two batches holding each other's ids in opposite orders) runs again.
        """
        if not news:
            return []
        for attempt in range(1, _INGEST_ATTEMPTS + 1):
            try:
                with self._ingesting() as conn:
                    outcomes = [self._insert_one(conn, new) for new in news]
                    created = [o.record for o in outcomes if o.created and o.record]
                    if created:
                        self._lock_status_feed(conn)
                        conn.executemany(
                            "INSERT INTO status_changes (submission_id, status, note, changed_at)"
                            " VALUES (?, ?, NULL, ?)",
                            [(r.submission_id, CaseStatus.RECEIVED, _ts(r.received_at)) for r in created],
                        )
                return outcomes
            except self.retryable_errors as exc:
                if attempt == _INGEST_ATTEMPTS:
                    raise
                log.warning("Batch of %d submissions lost a conflict (%s); running it again",
                            len(news), exc)
        raise AssertionError("unreachable")

    def _insert_one(self, conn: Connection, new: NewSubmission) -> InsertOutcome:
        received = _ts(new.received_at)
        inserted = conn.execute(
            "INSERT INTO submissions (submission_id, service_id, form_version,"
            " receipt_no, device_id, site_code, created_at, received_at, is_test,"
            " answers, status, status_changed_at, agent_id)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT DO NOTHING RETURNING seq",
            (
                new.submission_id,
                new.service_id,
                new.form_version,
                new.receipt_no,
                new.device_id,
                new.site_code,
                _ts(new.created_at),
                received,
                int(new.is_test),
                json.dumps(new.answers, ensure_ascii=False),
                CaseStatus.RECEIVED,
                received,
                new.agent_id,
            ),
        ).fetchall()
        if not inserted:
            # A unique key is taken: by this submission (a duplicate, also one committed
            # a moment ago by a concurrent batch) or, for its receipt number, by another.
            existing = self._full_submission(conn, "submission_id", new.submission_id)
            if existing is not None:
                return InsertOutcome(existing, created=False)
            return InsertOutcome(None, receipt_conflict=True)
        seq = int(inserted[0][0])
        case_no = case_number(seq, new.received_at)
        conn.execute("UPDATE submissions SET case_no = ? WHERE seq = ?", (case_no, seq))
        hashes = sorted(set(new.attachments))
        if hashes:
            conn.executemany(
                "INSERT INTO submission_attachments (submission_id, sha256) VALUES (?, ?)",
                [(new.submission_id, h) for h in hashes],
            )
        record = SubmissionRecord(
            submission_id=new.submission_id,
            case_no=case_no,
            service_id=new.service_id,
            form_version=new.form_version,
            receipt_no=new.receipt_no,
            device_id=new.device_id,
            site_code=new.site_code,
            created_at=new.created_at,
            received_at=new.received_at,
            is_test=new.is_test,
            status=CaseStatus.RECEIVED,
            status_note=None,
            status_changed_at=new.received_at,
            answers=new.answers,
            attachments=tuple(hashes),
            agent_id=new.agent_id,
        )
        return InsertOutcome(record, created=True)

    def get_submission(self, key: str) -> SubmissionRecord | None:
        """A submission by submission id, case number or receipt number."""
        with self._read() as conn:
            for column in ("submission_id", "case_no", "receipt_no"):
                found = self._full_submission(conn, column, key)
                if found is not None:
                    return found
        return None

    def submission_by_receipt(self, receipt_no: str) -> SubmissionRecord | None:
        """A submission by its receipt number."""
        with self._read() as conn:
            return self._full_submission(conn, "receipt_no", receipt_no)

    def list_submissions(self, *, limit: int | None = None) -> list[SubmissionRecord]:
        """Submissions, oldest first (without answers)."""
        sql = f"SELECT {self._SUBMISSION_COLUMNS} FROM submissions ORDER BY seq"
        params: tuple[int, ...] = ()
        if limit is not None:
            sql += " LIMIT ?"
            params = (limit,)
        with self._read() as conn:
            rows = conn.execute(sql, params).fetchall()
        return [self._submission(r) for r in rows]

    _CHANGE_SELECT = (
        "SELECT c.cursor, c.status, c.note, c.changed_at, s.case_no, s.receipt_no,"
        " s.submission_id, s.service_id, s.site_code"
        " FROM status_changes c JOIN submissions s ON s.submission_id = c.submission_id"
    )

    @staticmethod
    def _change(row: Row) -> StatusChangeRecord:
        return StatusChangeRecord(
            cursor=row["cursor"],
            case_no=row["case_no"],
            receipt_no=row["receipt_no"],
            submission_id=row["submission_id"],
            service_id=row["service_id"],
            site_code=row["site_code"],
            status=row["status"],
            note=row["note"],
            changed_at=_dt_req(row["changed_at"]),
        )

    def set_case_status(
        self, case_no: str, status: str, note: str | None, *, now: datetime
    ) -> StatusChangeRecord:
        """Record a status change of a case."""
        with self._write() as conn:
            self._lock_status_feed(conn)
            row = conn.execute(
                "SELECT submission_id FROM submissions WHERE case_no = ?", (case_no,)
            ).fetchone()
            if row is None:
                raise CaseNotFound(case_no)
            cursor = conn.execute(
                "INSERT INTO status_changes (submission_id, status, note, changed_at)"
                " VALUES (?, ?, ?, ?) RETURNING cursor",
                (row["submission_id"], status, note, _ts(now)),
            ).fetchall()[0][0]
            conn.execute(
                "UPDATE submissions SET status = ?, status_note = ?, status_changed_at = ?"
                " WHERE case_no = ?",
                (status, note, _ts(now), case_no),
            )
            change = conn.execute(
                f"{self._CHANGE_SELECT} WHERE c.cursor = ?", (cursor,)
            ).fetchone()
        return self._change(change)

    def status_changes(
        self, since: int, limit: int, *, site_code: str | None = None
    ) -> list[StatusChangeRecord]:
        """Changes with ``cursor > since``, oldest first, at most ``limit``."""
        sql = f"{self._CHANGE_SELECT} WHERE c.cursor > ?"
        params: list[Any] = [since]
        if site_code is not None:
            sql += " AND s.site_code = ?"
            params.append(site_code)
        sql += " ORDER BY c.cursor LIMIT ?"
        params.append(limit)
        with self._read() as conn:
            rows = conn.execute(sql, params).fetchall()
        return [self._change(r) for r in rows]

    def case_history(self, case_no: str) -> list[StatusChangeRecord]:
        """All status changes of one case, oldest first."""
        with self._read() as conn:
            rows = conn.execute(
                f"{self._CHANGE_SELECT} WHERE s.case_no = ? ORDER BY c.cursor", (case_no,)
            ).fetchall()
        return [self._change(r) for r in rows]

    # --- attachments -------------------------------------------------------------------------
    def add_attachment(self, record: AttachmentRecord) -> None:
        """Record a complete, verified attachment (idempotent)."""
        with self._write() as conn:
            conn.execute(
                "INSERT INTO attachments (sha256, size, stored_at) VALUES (?, ?, ?)"
                " ON CONFLICT DO NOTHING",
                (record.sha256, record.size, _ts(record.stored_at)),
            )

    def complete_attachments(self, hashes: list[str]) -> set[str]:
        """Which of these hashes are complete attachments."""
        if not hashes:
            return set()
        with self._read() as conn:
            rows = conn.execute(
                f"SELECT sha256 FROM attachments WHERE sha256 IN ({_placeholders(len(hashes))})",
                hashes,
            ).fetchall()
        return {r[0] for r in rows}

    def upload_length(self, device_id: str, sha256: str) -> int | None:
        """The total length a device declared for its upload of ``sha256``."""
        with self._read() as conn:
            row = conn.execute(
                "SELECT length FROM uploads WHERE device_id = ? AND sha256 = ?",
                (device_id, sha256),
            ).fetchone()
        return row[0] if row else None

    def set_upload_length(self, device_id: str, sha256: str, length: int | None) -> None:
        """Remember (or with ``None`` forget) a device's declared upload length."""
        with self._write() as conn:
            if length is None:
                conn.execute(
                    "DELETE FROM uploads WHERE device_id = ? AND sha256 = ?", (device_id, sha256)
                )
            else:
                conn.execute(
                    "INSERT INTO uploads (device_id, sha256, length) VALUES (?, ?, ?)"
                    " ON CONFLICT(device_id, sha256) DO UPDATE SET length = excluded.length",
                    (device_id, sha256, length),
                )
