"""The catalog is served as a signed bundle with an ETag; the signature covers every byte."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from catalog import DEFAULT_CATALOG_DIR
from central.app import Platform
from central.catalog_publisher import publish_catalog
from sync.protocol import CatalogBundle, CatalogContent, b64decode, catalog_content_version

if TYPE_CHECKING:
    from tests.central.central_helpers import FakeTerminal


def fetch(terminal: FakeTerminal, etag: str | None = None) -> tuple[int, dict[str, str], bytes]:
    headers = {**terminal.headers, **({"If-None-Match": etag} if etag else {})}
    answer = terminal.client.get("/v1/catalog", headers=headers)
    return answer.status_code, dict(answer.headers), answer.content


def test_the_catalog_is_signed_with_the_key_from_enrolment(terminal: FakeTerminal) -> None:
    status, headers, body = fetch(terminal)

    assert status == 200
    envelope = CatalogBundle.model_validate_json(body)
    key = Ed25519PublicKey.from_public_bytes(b64decode(terminal.enrolment.catalog_signing_public_key))
    key.verify(envelope.signature_bytes(), envelope.bundle_bytes())  # raises if wrong
    content = CatalogContent.model_validate_json(envelope.bundle_bytes())
    assert content.version == envelope.version
    assert headers["etag"] == f'"{envelope.version}"'
    assert content.version == catalog_content_version(
        content.format, content.categories, content.services
    )
    assert "residence-permit" in [s["id"] for s in content.services]
    assert {c["id"] for c in content.categories} >= {"household-residence"}


@pytest.mark.parametrize("position", [0, 100, -2])
def test_the_signature_fails_when_any_byte_of_the_bundle_changes(
    terminal: FakeTerminal, position: int
) -> None:
    _, _, body = fetch(terminal)
    envelope = CatalogBundle.model_validate_json(body)
    key = Ed25519PublicKey.from_public_bytes(b64decode(terminal.enrolment.catalog_signing_public_key))
    changed = bytearray(envelope.bundle_bytes())
    changed[position] ^= 0x01

    with pytest.raises(InvalidSignature):
        key.verify(envelope.signature_bytes(), bytes(changed))


def test_the_bundle_is_canonical_json(terminal: FakeTerminal) -> None:
    _, _, body = fetch(terminal)
    raw = CatalogBundle.model_validate_json(body).bundle_bytes()

    data = json.loads(raw)
    assert raw == json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")
    assert set(data) == {"format", "version", "created_at", "categories", "services"}


def test_a_current_etag_gets_304_and_an_old_one_the_bundle(terminal: FakeTerminal) -> None:
    _, headers, _ = fetch(terminal)
    etag = headers["etag"]

    unchanged = fetch(terminal, etag)
    weak = fetch(terminal, f'W/{etag}')
    listed = fetch(terminal, f'"other", {etag}')
    stale = fetch(terminal, '"0000"')

    assert unchanged[0] == weak[0] == listed[0] == 304
    assert unchanged[2] == b""
    assert unchanged[1]["etag"] == etag
    assert stale[0] == 200


def test_publishing_the_same_definitions_again_keeps_the_version(platform: Platform) -> None:
    again = publish_catalog(platform.store, platform.keys, DEFAULT_CATALOG_DIR)

    assert again.version == platform.catalog.version
    assert again.signature == platform.catalog.signature
