"""Publishing the service catalog as a signed bundle.

The bundle is the canonical JSON (:func:`sync.protocol.canonical_json`) of
``{format, version, created_at, categories, services}`` where ``services`` are the service
definitions exactly as loaded from their YAML files and ``version`` is the content hash of
``{format, categories, services}`` (so publishing the same definitions again yields the same
version and ETag). The Ed25519 signature covers exactly the bundle bytes.

Every (service id, form version) ever published is kept, so a submission made on an older
form version is validated against that version. A form version is immutable: publishing
changed content under a version that exists is refused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from pathlib import Path
from typing import Any

from central.keys import PlatformKeys
from central.store import (
    CentralStore,
    FormDefinitionRecord,
    FormVersionConflict,
    PublishedCatalog,
)
from sync.protocol import canonical_json, catalog_content_version, sha256_hex

log = logging.getLogger(__name__)

BUNDLE_FORMAT = 1
CATEGORIES_FILE = "categories.yaml"
_SOURCE_SETTING = "catalog_source_fingerprint"


class CatalogPublishError(Exception):
    """The catalog folder cannot be published; the message names the file and the fix."""


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def _plain(value: Any) -> Any:
    """The value as plain JSON data (YAML may hold dates)."""
    return json.loads(json.dumps(value, default=_json_default, ensure_ascii=False))


def build_bundle(
    folder: Path, keys: PlatformKeys, *, now: dt.datetime | None = None
) -> tuple[PublishedCatalog, list[FormDefinitionRecord]]:
    """Load ``folder`` with the forms engine and sign its bundle.

    Raises:
        CatalogPublishError: a definition is invalid or the folder is not a catalog.
    """
    from forms import DefinitionInvalid, load_catalog

    if not (folder / "services").is_dir():
        raise CatalogPublishError(
            f"{folder} is not a catalog folder (it needs services/*.yaml and categories.yaml)"
        )
    try:
        catalog = load_catalog(folder)
    except DefinitionInvalid as exc:
        lines = "; ".join(str(e) for e in exc.errors[:10])
        more = f" (and {len(exc.errors) - 10} more)" if len(exc.errors) > 10 else ""
        raise CatalogPublishError(f"catalog {folder} is not valid: {lines}{more}") from exc
    categories = [
        {"id": c.id, "name": {"zh_CN": c.name.zh_CN, "en": c.name.en}}
        for c in catalog.categories
    ]
    services = [_plain(dict(s.raw)) for s in catalog.services]
    version = catalog_content_version(BUNDLE_FORMAT, categories, services)
    created_at = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    bundle = canonical_json(
        {
            "format": BUNDLE_FORMAT,
            "version": version,
            "created_at": created_at.isoformat(),
            "categories": categories,
            "services": services,
        }
    )
    forms = [
        FormDefinitionRecord(
            service_id=raw["id"],
            form_version=str(raw["version"]),
            definition=raw,
            content_hash=sha256_hex(canonical_json(raw)),
        )
        for raw in services
    ]
    published = PublishedCatalog(
        version=version, created_at=created_at, bundle=bundle, signature=keys.sign(bundle)
    )
    return published, forms


def source_fingerprint(folder: Path) -> str:
    """A hash of the catalog folder's files (names and bytes) and of the signing key.

    When it equals the one recorded at the last publish, the current catalog is still
    right and loading every definition again (slow) can be skipped.
    """
    digest = hashlib.sha256(b"tongban catalog source v1\0")
    files = [folder / CATEGORIES_FILE, *sorted((folder / "services").glob("*.yaml"))]
    for path in files:
        if path.is_file():
            digest.update(path.relative_to(folder).as_posix().encode("utf-8") + b"\0")
            data = path.read_bytes()
            digest.update(len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()


def publish_catalog(store: CentralStore, keys: PlatformKeys, folder: Path) -> PublishedCatalog:
    """Load, sign and publish the catalog in ``folder``; it becomes the current catalog.

    Publishing the very files published last time is a no-op that keeps the current
    version (see :func:`source_fingerprint`).

    Raises:
        CatalogPublishError: invalid definitions, or a form version changed without a new
            version number.
    """
    if not (folder / "services").is_dir():
        raise CatalogPublishError(
            f"{folder} is not a catalog folder (it needs services/*.yaml and categories.yaml)"
        )
    fingerprint = source_fingerprint(folder) + ":" + sha256_hex(keys.signing_public)
    current = store.current_catalog()
    if current is not None and store.get_setting(_SOURCE_SETTING) == fingerprint:
        log.info("Catalog %s in %s is unchanged", current.version[:12], folder)
        return current
    bundle, forms = build_bundle(folder, keys)
    try:
        published = store.publish_catalog(bundle, forms)
    except FormVersionConflict as exc:
        raise CatalogPublishError(
            f"{exc} (catalog {folder}): give the changed definition a new version number; "
            "submissions made on the old version are validated against it"
        ) from exc
    store.set_setting(_SOURCE_SETTING, fingerprint)
    log.info(
        "Published catalog %s from %s (%d services)", published.version[:12], folder, len(forms)
    )
    return published
