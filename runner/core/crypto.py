"""Encryption at rest: AES-256-GCM whose associated data binds each secret to its row.

A ciphertext copied into another account's or credential's row fails to decrypt, because the
associated data (purpose, account id, record id) no longer matches. The key comes from the
environment (`SOPWRIGHT_SECRET_KEY`) or, for the embedded default only, from a key file that is
generated in the data dir; never from the database.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from runner.core.errors import ConfigError, SopwrightError
from runner.core.private import private_dir

log = logging.getLogger(__name__)

KEY_FILE_NAME = "secret.key"
_VERSION = "v1"


class DecryptionFailed(SopwrightError):
    """The ciphertext was altered, moved to another row, or sealed with another key."""

    code = "decryption_failed"


class SecretBox:
    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ConfigError("The encryption key must be 32 bytes (base64-encoded in SOPWRIGHT_SECRET_KEY).")
        self._aead = AESGCM(key)

    @staticmethod
    def generate_key() -> str:
        return base64.urlsafe_b64encode(AESGCM.generate_key(bit_length=256)).decode()

    @classmethod
    def from_setting(cls, value: str) -> SecretBox:
        try:
            key = base64.urlsafe_b64decode(value.strip().encode())
        except (binascii.Error, ValueError) as exc:
            raise ConfigError("SOPWRIGHT_SECRET_KEY is not valid base64.") from exc
        return cls(key)

    @classmethod
    def load(cls, setting: str | None, data_dir: Path) -> SecretBox:
        """The key from the setting, else from (or newly into) the data dir's key file."""
        if setting:
            return cls.from_setting(setting)
        key_file = data_dir / KEY_FILE_NAME
        if not key_file.exists():
            private_dir(data_dir)
            log.warning(
                "SOPWRIGHT_SECRET_KEY is not set: generated a key in %s. Back it up, or set "
                "SOPWRIGHT_SECRET_KEY in production; without it, stored secrets cannot be read.",
                key_file,
            )
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(cls.generate_key())
        return cls.from_setting(key_file.read_text())

    def seal(self, plaintext: str, *, purpose: str, account_id: str, record_id: str) -> str:
        nonce = os.urandom(12)
        ciphertext = self._aead.encrypt(nonce, plaintext.encode(), _aad(purpose, account_id, record_id))
        return f"{_VERSION}:{base64.urlsafe_b64encode(nonce + ciphertext).decode()}"

    def open(self, sealed: str, *, purpose: str, account_id: str, record_id: str) -> str:
        version, _, body = sealed.partition(":")
        if version != _VERSION:
            raise DecryptionFailed("Unknown ciphertext format.")
        try:
            raw = base64.urlsafe_b64decode(body.encode())
            plaintext = self._aead.decrypt(raw[:12], raw[12:], _aad(purpose, account_id, record_id))
        except (InvalidTag, binascii.Error, ValueError) as exc:
            raise DecryptionFailed(
                f"Cannot decrypt the {purpose}: wrong key, or the value was altered or moved to another row.",
                purpose=purpose,
            ) from exc
        return plaintext.decode()


def _aad(purpose: str, account_id: str, record_id: str) -> bytes:
    return f"sopwright/{purpose}/{account_id}/{record_id}".encode()
