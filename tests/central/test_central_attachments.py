"""Attachments: content-addressed, verified against their hash, idempotent and resumable."""

from __future__ import annotations

import hashlib
import os
from typing import TYPE_CHECKING

from central.app import Platform
from sync.protocol import PROBLEM_CONTENT_TYPE
from sync.sealing import seal
from tests.central.central_helpers import sealed_attachment

if TYPE_CHECKING:
    from tests.central.central_helpers import FakeTerminal


def test_a_whole_upload_is_verified_and_stored(terminal: FakeTerminal, platform: Platform) -> None:
    data = os.urandom(50_000)
    digest, sealed = sealed_attachment(terminal.sealing_key, data)

    answer = terminal.client.put(
        f"/v1/attachments/{digest}", content=sealed, headers=terminal.headers
    )

    assert answer.status_code == 200
    assert answer.json() == {
        "sha256": digest, "complete": True, "received": len(sealed), "length": len(sealed),
    }
    assert answer.headers["upload-complete"] == "?1"
    assert platform.uploads.read(digest) == data


def test_uploading_again_is_a_harmless_no_op(terminal: FakeTerminal, platform: Platform) -> None:
    data = b"the same scan twice"
    digest, sealed = sealed_attachment(terminal.sealing_key, data)
    url = f"/v1/attachments/{digest}"
    terminal.client.put(url, content=sealed, headers=terminal.headers)

    _, resealed = sealed_attachment(terminal.sealing_key, data)  # different bytes, same hash
    again = terminal.client.put(url, content=resealed, headers=terminal.headers)

    assert again.status_code == 200 and again.json()["complete"] is True
    assert platform.uploads.read(digest) == data


def test_an_upload_resumes_where_it_stopped(terminal: FakeTerminal, platform: Platform) -> None:
    data = os.urandom(300_000)
    digest, sealed = sealed_attachment(terminal.sealing_key, data)
    url = f"/v1/attachments/{digest}"

    def patch(offset: int, chunk: bytes) -> object:
        return terminal.client.patch(
            url,
            content=chunk,
            headers={
                **terminal.headers,
                "Upload-Offset": str(offset),
                "Upload-Length": str(len(sealed)),
                "Content-Type": "application/offset+octet-stream",
            },
        )

    first = patch(0, sealed[:100_000])
    assert first.status_code == 200
    assert first.json()["received"] == 100_000 and first.json()["complete"] is False

    # the terminal lost the answer / restarted: ask where the upload stands
    head = terminal.client.head(url, headers=terminal.headers)
    assert head.status_code == 200
    assert head.headers["upload-offset"] == "100000"
    assert head.headers["upload-complete"] == "?0"
    assert head.headers["upload-length"] == str(len(sealed))
    assert terminal.client.get(url, headers=terminal.headers).json()["received"] == 100_000

    wrong = patch(50_000, sealed[50_000:150_000])
    assert wrong.status_code == 409
    assert wrong.headers["content-type"] == PROBLEM_CONTENT_TYPE
    assert wrong.json()["code"] == "upload_offset_mismatch"
    assert wrong.json()["offset"] == 100_000

    second = patch(100_000, sealed[100_000:200_000])
    last = patch(200_000, sealed[200_000:])

    assert second.json()["received"] == 200_000
    assert last.status_code == 200 and last.json()["complete"] is True
    assert platform.uploads.read(digest) == data
    assert terminal.client.head(url, headers=terminal.headers).headers["upload-complete"] == "?1"


def test_a_chunk_past_the_declared_length_is_refused(terminal: FakeTerminal) -> None:
    digest, sealed = sealed_attachment(terminal.sealing_key, b"x" * 1000)

    answer = terminal.client.patch(
        f"/v1/attachments/{digest}",
        content=sealed + b"extra",
        headers={**terminal.headers, "Upload-Offset": "0", "Upload-Length": str(len(sealed))},
    )

    assert answer.status_code == 409
    assert answer.json()["code"] == "upload_length_mismatch"


def test_an_attachment_whose_hash_does_not_match_is_refused(
    terminal: FakeTerminal, platform: Platform
) -> None:
    claimed = hashlib.sha256(b"what the terminal said").hexdigest()
    sealed = seal(terminal.sealing_key, b"something else", context=claimed.encode("ascii"))
    url = f"/v1/attachments/{claimed}"

    answer = terminal.client.put(url, content=sealed, headers=terminal.headers)

    assert answer.status_code == 422
    assert answer.headers["content-type"] == PROBLEM_CONTENT_TYPE
    assert answer.json()["code"] == "attachment_hash_mismatch"
    assert platform.store.complete_attachments([claimed]) == set()
    status = terminal.client.get(url, headers=terminal.headers).json()
    assert status == {"sha256": claimed, "complete": False, "received": 0, "length": None}


def test_an_attachment_that_does_not_open_is_refused(terminal: FakeTerminal) -> None:
    digest, sealed = sealed_attachment(terminal.sealing_key, b"a page")
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])

    answer = terminal.client.put(
        f"/v1/attachments/{digest}", content=tampered, headers=terminal.headers
    )

    assert answer.status_code == 422
    assert answer.json()["code"] == "attachment_unreadable"


def test_an_attachment_address_must_be_a_sha256(terminal: FakeTerminal) -> None:
    answer = terminal.client.put("/v1/attachments/not-a-hash", content=b"x", headers=terminal.headers)

    assert answer.status_code == 422
    assert answer.headers["content-type"] == PROBLEM_CONTENT_TYPE


def test_a_chunk_over_the_size_limit_is_refused_with_413(terminal: FakeTerminal) -> None:
    answer = terminal.client.put(
        f"/v1/attachments/{'b' * 64}", content=b"x" * (9 * 1024 * 1024), headers=terminal.headers
    )

    assert answer.status_code == 413
    assert answer.json()["code"] == "payload_too_large"


def test_two_devices_uploading_the_same_file_do_not_disturb_each_other(
    enrol: object, platform: Platform
) -> None:
    first, second = enrol(), enrol()  # type: ignore[operator]
    data = os.urandom(10_000)
    digest, sealed_1 = sealed_attachment(first.sealing_key, data)
    _, sealed_2 = sealed_attachment(second.sealing_key, data)
    url = f"/v1/attachments/{digest}"

    def half(terminal: FakeTerminal, sealed: bytes) -> None:
        terminal.client.patch(url, content=sealed[:5000], headers={
            **terminal.headers, "Upload-Offset": "0", "Upload-Length": str(len(sealed))})

    half(first, sealed_1)
    half(second, sealed_2)
    done = first.client.patch(url, content=sealed_1[5000:], headers={
        **first.headers, "Upload-Offset": "5000", "Upload-Length": str(len(sealed_1))})

    assert done.json()["complete"] is True
    assert second.client.get(url, headers=second.headers).json()["complete"] is True
    assert platform.uploads.read(digest) == data
