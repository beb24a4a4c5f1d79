"""Sealing personal data to the central platform's public key.

A sealed box in the style of HPKE (RFC 9180, base mode) built from well-kept primitives in
``cryptography``: an ephemeral X25519 key agreement with the platform's public key, HKDF-SHA256
to derive a one-time AES-256-GCM key, and AES-256-GCM over the plaintext. The terminal keeps
only the platform's *public* key, so it cannot open what it sealed: a stolen disk exposes no
submission. The platform opens boxes with its private key (:func:`open_sealed`); both sides
share this one module so the format is defined in exactly one place.

Format (bytes): ``b"TBS1"`` | ephemeral public key (32) | nonce (12) | ciphertext + tag (16).
``context`` is authenticated but not encrypted; callers bind the box to what it belongs to
(for example the submission id) so a box cannot be moved to another record unnoticed.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAGIC = b"TBS1"
KEY_LEN = 32
NONCE_LEN = 12
TAG_LEN = 16
OVERHEAD = len(MAGIC) + KEY_LEN + NONCE_LEN + TAG_LEN
_INFO = b"tongban seal v1"


class SealError(Exception):
    """A sealed box could not be made or opened (wrong key, tampered bytes, bad key size)."""


def generate_keypair() -> tuple[bytes, bytes]:
    """A new X25519 key pair as raw 32-byte ``(private_key, public_key)``."""
    private = X25519PrivateKey.generate()
    return (
        private.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        ),
        private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw),
    )


def public_key_of(private_key: bytes) -> bytes:
    """The raw public key that belongs to a raw X25519 private key."""
    return (
        _load_private(private_key)
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )


def _derive_key(shared: bytes, ephemeral_public: bytes, recipient_public: bytes) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=ephemeral_public + recipient_public,
        info=_INFO,
    ).derive(shared)


def _load_public(public_key: bytes) -> X25519PublicKey:
    if len(public_key) != KEY_LEN:
        raise SealError(f"sealing key must be {KEY_LEN} bytes, got {len(public_key)}")
    return X25519PublicKey.from_public_bytes(public_key)


def _load_private(private_key: bytes) -> X25519PrivateKey:
    if len(private_key) != KEY_LEN:
        raise SealError(f"private key must be {KEY_LEN} bytes, got {len(private_key)}")
    return X25519PrivateKey.from_private_bytes(private_key)


def seal(public_key: bytes, plaintext: bytes, *, context: bytes = b"") -> bytes:
    """Seal ``plaintext`` so only the holder of the matching private key can open it."""
    recipient = _load_public(public_key)
    ephemeral = X25519PrivateKey.generate()
    ephemeral_public = ephemeral.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    shared = ephemeral.exchange(recipient)
    if shared == bytes(KEY_LEN):  # low-order point: refuse rather than encrypt under a known key
        raise SealError("sealing key is not a valid X25519 public key")
    key = _derive_key(shared, ephemeral_public, public_key)
    nonce = os.urandom(NONCE_LEN)
    return MAGIC + ephemeral_public + nonce + AESGCM(key).encrypt(nonce, plaintext, context)


def open_sealed(private_key: bytes, sealed: bytes, *, context: bytes = b"") -> bytes:
    """Open a box made by :func:`seal`; raises :class:`SealError` on any mismatch."""
    if len(sealed) < OVERHEAD or not sealed.startswith(MAGIC):
        raise SealError("not a sealed box of format TBS1")
    private = _load_private(private_key)
    start = len(MAGIC)
    ephemeral_public = sealed[start : start + KEY_LEN]
    nonce = sealed[start + KEY_LEN : start + KEY_LEN + NONCE_LEN]
    body = sealed[start + KEY_LEN + NONCE_LEN :]
    shared = private.exchange(X25519PublicKey.from_public_bytes(ephemeral_public))
    key = _derive_key(shared, ephemeral_public, public_key_of(private_key))
    try:
        return AESGCM(key).decrypt(nonce, body, context)
    except InvalidTag as exc:
        raise SealError("sealed box does not open: wrong key, wrong context or tampered") from exc
