"""Attachment uploads: content-addressed by plaintext SHA-256, idempotent and resumable.

A terminal uploads the *sealed* bytes of an attachment (sealed with the hex hash as context)
to ``/v1/attachments/{sha256}``, in one ``PUT`` or in ``PATCH`` chunks at an offset. Partial
uploads are kept per device in ``uploads/<device>/<sha256>.part``; the offset to resume at
is the size of that file, so a crash between two chunks loses nothing that was confirmed.
When the last byte arrives the platform opens the box and checks the plaintext's hash; a box
that does not open or a hash that differs is refused and the partial upload discarded.

Verified attachments are stored decrypted under ``attachments/<aa>/<sha256>`` (files 0600 in
0700 folders): case workers need them, and the platform's data folder as a whole holds
personal data (see docs/security.md). Once stored, an attachment is complete for every
device; uploading it again is a no-op.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from central.keys import PlatformKeys
from central.store import AttachmentRecord, CentralStore, Device
from sync.protocol import MAX_ATTACHMENT_BYTES, AttachmentStatus, sha256_hex
from sync.sealing import OVERHEAD, SealError, open_sealed

log = logging.getLogger(__name__)

ATTACHMENTS_DIR = "attachments"
UPLOADS_DIR = "uploads"


class UploadError(Exception):
    """An upload request that cannot be honoured; subclasses say why."""


@dataclass
class OffsetMismatch(UploadError):
    """The chunk does not start where the upload stands; resume at ``offset``."""

    offset: int


@dataclass
class LengthMismatch(UploadError):
    """The declared total length differs from before, or a chunk runs past it."""

    offset: int
    detail: str


class AttachmentTooLarge(UploadError):
    """The declared sealed length is over :data:`MAX_ATTACHMENT_BYTES`."""


class AttachmentUnreadable(UploadError):
    """The complete upload is not a sealed box this platform can open."""


class AttachmentHashMismatch(UploadError):
    """The opened attachment's SHA-256 is not the one it was uploaded under."""


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _ensure_private_dir(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)


class AttachmentUploads:
    """Uploads in progress and stored attachments of one platform."""

    def __init__(self, data_dir: Path, store: CentralStore, keys: PlatformKeys) -> None:
        self._root = data_dir / ATTACHMENTS_DIR
        self._uploads = data_dir / UPLOADS_DIR
        _ensure_private_dir(self._root)
        _ensure_private_dir(self._uploads)
        self._store = store
        self._keys = keys
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._locks_guard = threading.Lock()

    def _lock(self, device: Device, sha256: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault((device.device_id, sha256), threading.Lock())

    def _part(self, device: Device, sha256: str) -> Path:
        return self._uploads / device.device_id / f"{sha256}.part"

    def stored_path(self, sha256: str) -> Path:
        """Where a verified attachment's plaintext lives."""
        return self._root / sha256[:2] / sha256

    def read(self, sha256: str) -> bytes:
        """The plaintext of a stored attachment (``FileNotFoundError`` if not stored)."""
        return self.stored_path(sha256).read_bytes()

    def _complete_status(self, sha256: str) -> AttachmentStatus | None:
        if not self._store.complete_attachments([sha256]):
            return None
        try:
            sealed_size = self.stored_path(sha256).stat().st_size + OVERHEAD
        except FileNotFoundError:
            sealed_size = 0
        return AttachmentStatus(
            sha256=sha256, complete=True, received=sealed_size, length=sealed_size
        )

    def status(self, device: Device, sha256: str) -> AttachmentStatus:
        """How far this device's upload of ``sha256`` is (complete if anyone's finished)."""
        done = self._complete_status(sha256)
        if done is not None:
            return done
        part = self._part(device, sha256)
        received = part.stat().st_size if part.exists() else 0
        return AttachmentStatus(
            sha256=sha256,
            complete=False,
            received=received,
            length=self._store.upload_length(device.device_id, sha256),
        )

    def put(self, device: Device, sha256: str, body: bytes) -> AttachmentStatus:
        """Upload the whole sealed attachment at once (restarts any partial upload)."""
        return self.append(device, sha256, offset=0, length=len(body), chunk=body)

    def append(
        self, device: Device, sha256: str, *, offset: int, length: int, chunk: bytes
    ) -> AttachmentStatus:
        """Add ``chunk`` at ``offset`` of a sealed attachment ``length`` bytes long.

        Offset 0 (re)starts the upload. When the last byte arrives the attachment is
        opened, verified and stored.

        Raises:
            OffsetMismatch, LengthMismatch, AttachmentTooLarge, AttachmentUnreadable,
            AttachmentHashMismatch
        """
        done = self._complete_status(sha256)
        if done is not None:
            return done  # idempotent: someone finished it already
        if length > MAX_ATTACHMENT_BYTES:
            raise AttachmentTooLarge(
                f"sealed attachment of {length} bytes is over the limit of "
                f"{MAX_ATTACHMENT_BYTES} bytes"
            )
        if length <= OVERHEAD:
            raise AttachmentUnreadable(f"{length} bytes cannot hold a sealed attachment")
        with self._lock(device, sha256):
            part = self._part(device, sha256)
            declared = self._store.upload_length(device.device_id, sha256)
            current = part.stat().st_size if part.exists() else 0
            if offset == 0:
                current = 0
            elif declared is not None and declared != length:
                raise LengthMismatch(
                    current,
                    f"Upload-Length {length} differs from the {declared} declared before; "
                    "restart at offset 0",
                )
            elif offset != current:
                raise OffsetMismatch(current)
            if offset + len(chunk) > length:
                raise LengthMismatch(
                    current, f"chunk ends at {offset + len(chunk)}, past Upload-Length {length}"
                )
            _ensure_private_dir(part.parent)
            if declared != length:
                self._store.set_upload_length(device.device_id, sha256, length)
            flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if offset == 0 else os.O_APPEND)
            fd = os.open(part, flags, 0o600)
            try:
                _write_all(fd, chunk)
                os.fsync(fd)
            finally:
                os.close(fd)
            received = offset + len(chunk)
            if received < length:
                return AttachmentStatus(
                    sha256=sha256, complete=False, received=received, length=length
                )
            return self._finish(device, sha256, part)

    def _discard(self, device: Device, sha256: str, part: Path) -> None:
        part.unlink(missing_ok=True)
        self._store.set_upload_length(device.device_id, sha256, None)

    def _finish(self, device: Device, sha256: str, part: Path) -> AttachmentStatus:
        sealed = part.read_bytes()
        try:
            plaintext = open_sealed(
                self._keys.sealing_private, sealed, context=sha256.encode("ascii")
            )
        except SealError as exc:
            self._discard(device, sha256, part)
            raise AttachmentUnreadable(
                f"attachment {sha256[:12]} does not open: {exc}; upload it again from offset 0"
            ) from exc
        actual = sha256_hex(plaintext)
        if actual != sha256:
            self._discard(device, sha256, part)
            raise AttachmentHashMismatch(
                f"attachment uploaded as {sha256[:12]}... has SHA-256 {actual[:12]}...; "
                "refused"
            )
        target = self.stored_path(sha256)
        _ensure_private_dir(target.parent)
        tmp = target.with_name(f".{sha256}.{device.device_id}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            _write_all(fd, plaintext)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
        self._store.add_attachment(
            AttachmentRecord(sha256=sha256, size=len(plaintext), stored_at=datetime.now(UTC))
        )
        self._discard(device, sha256, part)
        log.info("Stored attachment %s (%d bytes) from device %s", sha256[:12], len(plaintext),
                 device.device_id)
        return AttachmentStatus(
            sha256=sha256, complete=True, received=len(sealed), length=len(sealed)
        )
