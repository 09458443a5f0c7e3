"""Ed25519 signatures of releases: the workspace's signing key and the detached signature of SHA256SUMS.

The private key lives in the workspace (`keys/release-signing-key.pem`, readable by its owner only) and
never in a release. A workspace without a key makes its own on its first release, so no two workspaces
share one and no key is ever published with the code. Each release carries the detached signature
`SHA256SUMS.sig` (64 raw bytes) and the public key `signing-key.pub` (PEM) that made it; neither is
listed in SHA256SUMS or packed in the zip, so every other file of a release depends only on its content.

A reader checks a release with `instep verify`, or with OpenSSL alone:
`openssl pkeyutl -verify -pubin -inkey signing-key.pub -rawin -in SHA256SUMS -sigfile SHA256SUMS.sig`.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from instep.settings import Settings

KEYS_FOLDER = "keys"
PRIVATE_KEY_NAME = "release-signing-key.pem"
PUBLIC_KEY_NAME = "signing-key.pub"
SIGNATURE_NAME = "SHA256SUMS.sig"
RETIRED_FOLDER = "retired"


class SigningError(RuntimeError):
    pass


def keys_dir(settings: Settings) -> Path:
    return settings.workspace / KEYS_FOLDER


def private_key_path(settings: Settings) -> Path:
    return keys_dir(settings) / PRIVATE_KEY_NAME


def public_key_path(settings: Settings) -> Path:
    return keys_dir(settings) / PUBLIC_KEY_NAME


def public_key_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def fingerprint(public_pem: bytes) -> str:
    """SHA-256 of the raw 32-byte public key, as the steward guide shows it to compare keys by eye."""
    key = load_public_key(public_pem)
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "SHA256:" + hashlib.sha256(raw).hexdigest()


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    os.replace(temporary, path)


def generate_key(settings: Settings, *, rotate: bool = False) -> Path:
    """A new signing key for the workspace; with `rotate`, the current one is kept under keys/retired/.

    Without `rotate` an existing key is never replaced (SigningError).
    """
    private_path, public_path = private_key_path(settings), public_key_path(settings)
    if private_path.exists():
        if not rotate:
            raise SigningError(
                f"the workspace already has a signing key ({private_path}); use --rotate to replace it"
            )
        retired = keys_dir(settings) / RETIRED_FOLDER
        retired.mkdir(parents=True, exist_ok=True)
        old_public = public_path.read_bytes()
        stamp = fingerprint(old_public).split(":", 1)[1][:16]
        os.replace(private_path, retired / f"release-signing-key-{stamp}.pem")
        (retired / f"signing-key-{stamp}.pub").write_bytes(old_public)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    _write_private(private_path, pem)
    public_path.write_bytes(public_key_pem(key.public_key()))
    return private_path


def ensure_key(settings: Settings) -> Path:
    """The workspace's signing key, made on first use."""
    path = private_key_path(settings)
    if not path.exists():
        generate_key(settings)
    return path


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as error:
        raise SigningError(f"{path} is not a readable unencrypted PEM private key: {error}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningError(f"{path} is not an Ed25519 key")
    return key


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError as error:
        raise SigningError(f"not a PEM public key: {error}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise SigningError("the public key is not an Ed25519 key")
    return key


def sign_release(settings: Settings, directory: Path, sums_name: str) -> None:
    """Write SHA256SUMS.sig and signing-key.pub beside the release's SHA256SUMS."""
    key = load_private_key(ensure_key(settings))
    signature = key.sign((directory / sums_name).read_bytes())
    (directory / SIGNATURE_NAME).write_bytes(signature)
    (directory / PUBLIC_KEY_NAME).write_bytes(public_key_pem(key.public_key()))


def signature_valid(public_pem: bytes, signature: bytes, message: bytes) -> bool:
    try:
        load_public_key(public_pem).verify(signature, message)
    except InvalidSignature:
        return False
    return True
