"""API keys: random, with a readable prefix, shown once, stored as a hash.

A key reads `sk_<id>_<secret>`: the id is public (it names the key in listings and is the
lookup index), the secret is 32 random bytes. Only SHA-256 of the whole key is stored: the
secret has full entropy, so a slow hash would add nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

KEY_PREFIX = "sk_"


@dataclass(frozen=True)
class NewKey:
    key_id: str
    plaintext: str
    secret_hash: str


def generate() -> NewKey:
    key_id = secrets.token_hex(6)
    plaintext = f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
    return NewKey(key_id=key_id, plaintext=plaintext, secret_hash=hash_key(plaintext))


def hash_key(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def key_id_of(plaintext: str) -> str | None:
    """The public id of a presented key, or None if it is not shaped like one of ours."""
    if not plaintext.startswith(KEY_PREFIX):
        return None
    key_id, sep, secret = plaintext[len(KEY_PREFIX) :].partition("_")
    if not sep or not key_id or not secret or len(key_id) > 32:
        return None
    return key_id


def matches(plaintext: str, secret_hash: str) -> bool:
    return hmac.compare_digest(hash_key(plaintext), secret_hash)


def generate_webhook_secret() -> str:
    """A Standard Webhooks secret: `whsec_` + base64 of 24 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
