"""Secrets at rest: private keys and credentials are stored encrypted with Fernet.

VM_SECRETS_KEY holds one or more Fernet keys, comma-separated: the first encrypts, every
one decrypts, so a key can be rotated without losing what the old one encrypted.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app


class SecretsKeyError(Exception):
    """A stored secret cannot be decrypted with the configured keys."""


def _fernet(keys: str) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.strip()) for key in keys.split(",") if key.strip()])
    except ValueError as exc:
        raise SecretsKeyError(
            "VM_SECRETS_KEY must be Fernet keys (32 url-safe base64 bytes), comma-separated."
        ) from exc


def encrypt(plaintext: bytes, keys: str | None = None) -> bytes:
    """Encrypt with the first configured key."""
    return _fernet(keys or current_app.config["SECRETS_KEY"]).encrypt(plaintext)


def decrypt(token: bytes, keys: str | None = None) -> bytes:
    """Decrypt with any configured key."""
    try:
        return _fernet(keys or current_app.config["SECRETS_KEY"]).decrypt(token)
    except InvalidToken as exc:
        raise SecretsKeyError(
            "A stored secret could not be decrypted: VM_SECRETS_KEY does not contain the key "
            "it was encrypted with."
        ) from exc
