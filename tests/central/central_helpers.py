"""Helpers for the central platform's tests: a fake terminal that enrols, seals and pushes
like the real one, and the bundled catalog's example answers."""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import psycopg
from fastapi.testclient import TestClient

from catalog import DEFAULT_CATALOG_DIR
from central.database import database_url
from central.sqlite_store import DB_FILE
from sync.protocol import EnrolResponse, b64decode, b64encode
from sync.sealing import seal

_receipts = itertools.count(1)


@cache
def example_answers_for(service_id: str) -> dict[str, Any]:
    """The bundled definition's example answers (a valid payload, placeholder attachments)."""
    from forms import example_answers, load_catalog

    return example_answers(load_catalog(DEFAULT_CATALOG_DIR).get(service_id))


def attachment_refs(answers: Any) -> Iterator[dict[str, Any]]:
    """Every ``{"sha256": ...}`` object inside the answers."""
    if isinstance(answers, dict):
        if "sha256" in answers:
            yield answers
        for value in answers.values():
            yield from attachment_refs(value)
    elif isinstance(answers, list):
        for value in answers:
            yield from attachment_refs(value)


def sealed_attachment(public_key: bytes, data: bytes) -> tuple[str, bytes]:
    """``(sha256 hex, sealed bytes)`` of an attachment as the terminal makes them."""
    digest = hashlib.sha256(data).hexdigest()
    return digest, seal(public_key, data, context=digest.encode("ascii"))


@dataclass
class FakeTerminal:
    """An enrolled terminal that talks to the platform through a test client."""

    client: TestClient | httpx.Client
    enrolment: EnrolResponse
    receipts: Iterator[int] = field(default_factory=lambda: _receipts)

    @property
    def headers(self) -> dict[str, str]:
        """The bearer credential."""
        return {"Authorization": f"Bearer {self.enrolment.token}"}

    @property
    def sealing_key(self) -> bytes:
        """The platform's public sealing key from enrolment."""
        return b64decode(self.enrolment.sealing_public_key)

    def item(
        self,
        service_id: str = "residence-permit",
        answers: dict[str, Any] | None = None,
        *,
        submission_id: str | None = None,
        receipt_no: str | None = None,
        form_version: str = "1.0.0",
        is_test: bool = True,
        attachments: list[str] | None = None,
        sealed: bytes | None = None,
    ) -> dict[str, Any]:
        """One batch item with the answers sealed as the terminal seals them."""
        submission_id = submission_id or str(uuid.uuid4())
        if answers is None:
            answers = copy.deepcopy(example_answers_for(service_id))
        if sealed is None:
            plaintext = json.dumps({"answers": answers}, ensure_ascii=False).encode("utf-8")
            sealed = seal(self.sealing_key, plaintext, context=submission_id.encode("utf-8"))
        return {
            "submission_id": submission_id,
            "service_id": service_id,
            "form_version": form_version,
            "receipt_no": receipt_no
            or f"{self.enrolment.site_code}{self.enrolment.device_code}{next(self.receipts):08d}",
            "created_at": datetime.now(UTC).isoformat(),
            "is_test": is_test,
            "sealed_payload": b64encode(sealed),
            "attachments": attachments or [],
        }

    def push(self, *items: dict[str, Any]) -> httpx.Response:
        """POST a batch."""
        return self.client.post(
            "/v1/submissions/batch", json={"items": list(items)}, headers=self.headers
        )

    def upload(self, data: bytes) -> str:
        """Upload an attachment in one PUT; returns its SHA-256."""
        digest, sealed = sealed_attachment(self.sealing_key, data)
        answer = self.client.put(f"/v1/attachments/{digest}", content=sealed, headers=self.headers)
        assert answer.status_code == 200, answer.text
        assert answer.json()["complete"] is True
        return digest

    def real_answers(self, service_id: str = "residence-permit") -> tuple[dict[str, Any], list[str]]:
        """Example answers whose attachments were really uploaded; and their hashes."""
        answers = copy.deepcopy(example_answers_for(service_id))
        hashes = []
        for n, ref in enumerate(attachment_refs(answers)):
            data = f"{uuid.uuid4()} file {n}".encode() * 10
            ref["sha256"] = self.upload(data)
            ref["size"] = len(data)
            hashes.append(ref["sha256"])
        return answers, hashes


def dump_database(data_dir: Path) -> str:
    """Every row of the platform's database as text (SQLite or PostgreSQL, as configured)."""
    url = database_url(data_dir)
    if url is None:
        with sqlite3.connect(data_dir / DB_FILE) as db:
            return "\n".join(db.iterdump())
    with psycopg.connect(url) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        )]
        return "\n".join(
            str(row[0])
            for table in tables
            for row in conn.execute(f'SELECT t::text FROM "{table}" t')  # type: ignore[arg-type]
        )
