"""Applying a signed catalog bundle from the central platform on the terminal.

The order is what makes it safe:

1. verify the Ed25519 signature over the exact bundle bytes with the catalog signing key
   stored at enrolment (nothing in the bundle is read before that);
2. parse the content and check its version against the envelope and against the content
   hash (:func:`sync.protocol.catalog_content_version`); refuse a bundle older than the one
   in use (a replayed old bundle must not roll the terminal back);
3. write it as a catalog folder (``categories.yaml`` + ``services/<id>.yaml``) into a fresh
   folder beside the live one, flushed to disk, and let the caller's ``validate`` load it
   with the forms engine;
4. switch the live catalog to it in one atomic step.

Any failure before step 4 leaves the catalog in use untouched; a crash at any moment leaves
either the old or the new catalog live, never a mix.

Layout under ``root`` (the kiosk passes ``<data>/catalog``)::

    root/current              -> versions/<version>   (a symlink; swapped with os.replace)
    root/versions/<version>/  categories.yaml, services/*.yaml, bundle.json

``bundle.json`` keeps the envelope facts (version, created_at, ETag). The previous version
stays on disk so a technician can go back; older ones are removed.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import ValidationError

from sync.protocol import CatalogBundle, CatalogContent, catalog_content_version

log = logging.getLogger(__name__)

CURRENT = "current"
VERSIONS = "versions"
MANIFEST = "bundle.json"
SUPPORTED_FORMATS = frozenset({1})

Validator = Callable[[Path], object]


class CatalogRejected(Exception):
    """A catalog bundle was refused; the catalog in use stays. The message says why."""


@dataclass(frozen=True)
class AppliedCatalog:
    """The catalog the terminal uses after an update (or already used)."""

    version: str
    created_at: datetime
    etag: str | None
    path: Path
    services: int


def verify_bundle(envelope: CatalogBundle, signing_key: bytes) -> CatalogContent:
    """Check the signature and the version of ``envelope``; return its content.

    Raises:
        CatalogRejected: unsigned, signed by another key, tampered, or inconsistent.
    """
    if envelope.format not in SUPPORTED_FORMATS:
        raise CatalogRejected(f"catalog envelope format {envelope.format} is not supported")
    try:
        data = envelope.bundle_bytes()
        signature = envelope.signature_bytes()
    except ValueError as exc:
        raise CatalogRejected(f"catalog bundle or signature is not base64: {exc}") from exc
    if len(signature) != 64:
        raise CatalogRejected("catalog bundle is unsigned (no 64-byte Ed25519 signature)")
    try:
        Ed25519PublicKey.from_public_bytes(signing_key).verify(signature, data)
    except InvalidSignature as exc:
        raise CatalogRejected(
            "catalog signature does not verify with the enrolled signing key "
            "(tampered, or signed by another platform)"
        ) from exc
    except ValueError as exc:  # a stored key of the wrong size
        raise CatalogRejected(f"the enrolled catalog signing key is unusable: {exc}") from exc
    try:
        content = CatalogContent.model_validate_json(data)
    except ValidationError as exc:
        raise CatalogRejected(
            f"signed catalog content is not readable ({exc.error_count()} problems)"
        ) from exc
    if content.format not in SUPPORTED_FORMATS:
        raise CatalogRejected(f"catalog content format {content.format} is not supported")
    if content.version != envelope.version:
        raise CatalogRejected(
            f"catalog version {content.version[:12]} does not match its envelope "
            f"{envelope.version[:12]}"
        )
    expected = catalog_content_version(content.format, content.categories, content.services)
    if expected != content.version:
        raise CatalogRejected(
            f"catalog content hash {expected[:12]} does not match its version "
            f"{content.version[:12]}"
        )
    return content


def current_catalog(root: Path) -> AppliedCatalog | None:
    """The catalog applied under ``root``, or None (none yet, or its folder is unreadable)."""
    link = root / CURRENT
    try:
        folder = link.resolve(strict=True)
        manifest = json.loads((folder / MANIFEST).read_text("utf-8"))
        return AppliedCatalog(
            version=manifest["version"],
            created_at=datetime.fromisoformat(manifest["created_at"]),
            etag=manifest.get("etag"),
            path=folder,
            services=int(manifest.get("services", 0)),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def apply_bundle(
    envelope: CatalogBundle,
    signing_key: bytes,
    root: Path,
    *,
    etag: str | None = None,
    validate: Validator | None = None,
) -> AppliedCatalog:
    """Verify ``envelope`` and make it the catalog in use under ``root``, atomically.

    Args:
        envelope: the bundle as received.
        signing_key: the raw Ed25519 public key from enrolment.
        root: the folder that holds ``current`` and ``versions/``.
        etag: the answer's ETag, kept to ask "anything newer?" next time.
        validate: loads a written catalog folder and raises if it is unusable (the kiosk
            passes the forms engine's ``load_catalog``).

    Raises:
        CatalogRejected: anything wrong; the catalog in use is unchanged.
    """
    content = verify_bundle(envelope, signing_key)
    in_use = current_catalog(root)
    if in_use is not None and in_use.version == content.version:
        log.debug("catalog %s is already in use", content.version[:12])
        return in_use
    if in_use is not None and _aware(content.created_at) < _aware(in_use.created_at):
        raise CatalogRejected(
            f"catalog {content.version[:12]} ({content.created_at.isoformat()}) is older than "
            f"the one in use ({in_use.created_at.isoformat()}); refusing to roll back"
        )

    versions = root / VERSIONS
    versions.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".incoming-", dir=versions))
    try:
        _write_catalog(staging, content, etag)
        if validate is not None:
            try:
                validate(staging)
            except Exception as exc:  # any reason the forms engine refuses it
                raise CatalogRejected(
                    f"signed catalog {content.version[:12]} does not load: "
                    f"{str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__}"
                ) from exc
        final = versions / content.version
        if final.exists():  # left over from an earlier, interrupted apply
            shutil.rmtree(final)
        os.replace(staging, final)
        _fsync_dir(versions)
        _switch_current(root, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    applied = AppliedCatalog(
        version=content.version,
        created_at=content.created_at,
        etag=etag,
        path=final,
        services=len(content.services),
    )
    _prune(root, keep={final.name, in_use.path.name if in_use else ""})
    log.info(
        "catalog %s applied (%d services)%s",
        content.version[:12],
        applied.services,
        f", replacing {in_use.version[:12]}" if in_use else "",
    )
    return applied


def _aware(moment: datetime) -> datetime:
    from datetime import UTC

    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _write_catalog(folder: Path, content: CatalogContent, etag: str | None) -> None:
    """Write ``content`` as a catalog folder the forms engine loads, every file flushed."""
    services_dir = folder / "services"
    services_dir.mkdir()
    seen: set[str] = set()
    for service in content.services:
        service_id = service.get("id")
        if not isinstance(service_id, str) or not _safe_file_stem(service_id):
            raise CatalogRejected(f"catalog service id {service_id!r} is not a safe file name")
        if service_id in seen:
            raise CatalogRejected(f"catalog lists service {service_id!r} twice")
        seen.add(service_id)
        _write_file(services_dir / f"{service_id}.yaml", _yaml(service))
    _write_file(
        folder / "categories.yaml",
        _yaml({"format": content.format, "categories": content.categories}),
    )
    manifest = {
        "version": content.version,
        "created_at": content.created_at.isoformat(),
        "etag": etag,
        "services": len(content.services),
    }
    _write_file(folder / MANIFEST, json.dumps(manifest, indent=2).encode())
    _fsync_dir(services_dir)
    _fsync_dir(folder)


def _safe_file_stem(name: str) -> bool:
    return (
        0 < len(name) <= 100
        and all(c.isascii() and (c.isalnum() or c in "-_") for c in name)
        and not name.startswith("-")
    )


def _yaml(value: Any) -> bytes:
    return yaml.safe_dump(value, allow_unicode=True, sort_keys=False).encode("utf-8")


def _write_file(path: Path, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_dir(folder: Path) -> None:
    """Make a rename or new file in ``folder`` durable (a no-op where unsupported)."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _switch_current(root: Path, target: Path) -> None:
    """Point ``root/current`` at ``target`` in one atomic rename of a symlink."""
    link = root / CURRENT
    if link.exists() and not link.is_symlink():
        # A plain folder from another installer: keep it aside rather than lose it.
        aside = root / f"{CURRENT}.before-sync"
        shutil.rmtree(aside, ignore_errors=True)
        os.replace(link, aside)
    temp_link = root / f".{CURRENT}.{os.getpid()}.tmp"
    with contextlib.suppress(FileNotFoundError):
        temp_link.unlink()
    os.symlink(Path(VERSIONS) / target.name, temp_link, target_is_directory=True)
    os.replace(temp_link, link)
    _fsync_dir(root)


def _prune(root: Path, keep: set[str]) -> None:
    """Remove catalog versions other than ``keep``, stale staging folders, and the temporary
    ``current`` links an update killed between making and renaming one leaves behind."""
    for leftover in root.glob(f".{CURRENT}.*.tmp"):
        if leftover.is_symlink():
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
            log.debug("removed a leftover link %s", leftover)
    versions = root / VERSIONS
    for entry in versions.iterdir():
        if entry.name in keep:
            continue
        shutil.rmtree(entry, ignore_errors=True)
        log.debug("removed old catalog folder %s", entry)
