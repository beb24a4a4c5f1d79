"""The platform's long-lived keys, created on first start and kept in the data folder.

* ``keys/sealing.key``: the X25519 private key terminals seal personal data to
  (see :mod:`sync.sealing`); its public half is handed out at enrolment.
* ``keys/catalog-signing.key``: the Ed25519 private key that signs catalog bundles.
* ``keys/appointment-signing.key``: the Ed25519 private key that signs appointment tokens
  (a key of its own: a leaked catalog key cannot mint appointments, nor the reverse);
  its public half is handed out at enrolment so kiosks verify tokens offline.

Both are raw 32-byte files with 0600 permissions in a 0700 folder. Losing the sealing key
makes every queued submission unreadable; back the folder up (see docs/security.md).
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sync.sealing import generate_keypair, public_key_of

log = logging.getLogger(__name__)

KEYS_DIR = "keys"
SEALING_KEY_FILE = "sealing.key"
SIGNING_KEY_FILE = "catalog-signing.key"
APPOINTMENT_KEY_FILE = "appointment-signing.key"
_KEY_LEN = 32


class KeyFileError(Exception):
    """A key file exists but cannot be used; the message names the file and the fix."""


@dataclass(frozen=True)
class PlatformKeys:
    """The platform's key pairs as raw 32-byte values."""

    sealing_private: bytes
    sealing_public: bytes
    signing_private: bytes
    signing_public: bytes
    appointment_private: bytes
    appointment_public: bytes

    def sign(self, data: bytes) -> bytes:
        """Ed25519 signature of ``data`` with the catalog signing key."""
        return Ed25519PrivateKey.from_private_bytes(self.signing_private).sign(data)

    def sign_appointment(self, data: bytes) -> bytes:
        """Ed25519 signature of ``data`` with the appointment signing key."""
        return Ed25519PrivateKey.from_private_bytes(self.appointment_private).sign(data)


def _write_new_key(path: Path, raw: bytes) -> None:
    # O_EXCL: never overwrite a key another process created a moment ago.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, raw)
        os.fsync(fd)
    finally:
        os.close(fd)
    log.info("Created key file %s", path)


def _read_key(path: Path) -> bytes:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        log.warning("Key file %s had permissions %o; tightening to 0600", path, mode)
        os.chmod(path, 0o600)
    raw = path.read_bytes()
    if len(raw) != _KEY_LEN:
        raise KeyFileError(
            f"key file {path} holds {len(raw)} bytes, expected {_KEY_LEN}: restore it from "
            "the backup (deleting it makes a new key and strands every sealed submission)"
        )
    return raw


def _load_or_create(path: Path, make_private: Callable[[], bytes]) -> bytes:
    if not path.exists():
        try:
            _write_new_key(path, make_private())
        except FileExistsError:
            pass  # created concurrently; read that one
    return _read_key(path)


def _new_signing_private() -> bytes:
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )


def load_or_create_keys(data_dir: Path) -> PlatformKeys:
    """Load the platform's keys from ``data_dir/keys``, creating any that are missing.

    Raises:
        KeyFileError: a key file is unreadable or has the wrong size.
    """
    keys_dir = data_dir / KEYS_DIR
    keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(keys_dir, 0o700)
    try:
        sealing_private = _load_or_create(
            keys_dir / SEALING_KEY_FILE, lambda: generate_keypair()[0]
        )
        signing_private = _load_or_create(keys_dir / SIGNING_KEY_FILE, _new_signing_private)
        appointment_private = _load_or_create(keys_dir / APPOINTMENT_KEY_FILE, _new_signing_private)
    except OSError as exc:
        raise KeyFileError(f"cannot read or create keys in {keys_dir}: {exc.strerror}") from exc
    return PlatformKeys(
        sealing_private=sealing_private,
        sealing_public=public_key_of(sealing_private),
        signing_private=signing_private,
        signing_public=_ed25519_public(signing_private),
        appointment_private=appointment_private,
        appointment_public=_ed25519_public(appointment_private),
    )


def _ed25519_public(private: bytes) -> bytes:
    return (
        Ed25519PrivateKey.from_private_bytes(private)
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
