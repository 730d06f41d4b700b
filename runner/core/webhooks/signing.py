"""Signatures: Standard Webhooks headers, and the Serene envelope's in-body `signature`.

Headers (https://www.standardwebhooks.com), on every attempt:
    webhook-id         the delivery id, stable across retries (receivers deduplicate on it)
    webhook-timestamp  Unix seconds of this attempt (fresh each time)
    webhook-signature  space-separated `v1,<base64 HMAC-SHA256(key, f"{id}.{timestamp}.{body}")>`,
                       one entry per active secret (two during a rotation's overlap)

In-body `signature` (Serene compatibility; it cannot sign itself): the same `v1,` scheme and keys
over the canonical JSON (sorted keys, no spaces, UTF-8) of the envelope *without* its `signature`
member, i.e. of `{"created_at", "data", "event"}`. It binds the event name, its time and the task,
but carries no send time: prefer the headers, which also defeat replays.

The key is the base64-decoded part of the `whsec_` secret, as the Standard Webhooks libraries use it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)


def secret_key(secret: str) -> bytes:
    """The HMAC key of a `whsec_` secret (unpadded base64 is accepted, like the official libraries)."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    return base64.b64decode(encoded + "=" * (-len(encoded) % 4))


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _v1(key: bytes, content: bytes) -> str:
    return "v1," + base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()


def sign(secrets: Sequence[str], content: bytes) -> str:
    """Space-separated `v1,` signatures of `content`, one per secret (newest first)."""
    if not secrets:
        raise ValueError("at least one secret is needed to sign")
    return " ".join(_v1(secret_key(s), content) for s in secrets)


def body_signature(envelope: Mapping[str, Any], secrets: Sequence[str]) -> str:
    """The in-body `signature`: over the canonical JSON of the envelope without `signature`."""
    unsigned = {k: v for k, v in envelope.items() if k != "signature"}
    return sign(secrets, canonical_json(unsigned).encode())


def signed_body(payload: Mapping[str, Any], secrets: Sequence[str]) -> bytes:
    """The bytes POSTed: `{"signature", "event", "created_at", "data"}` as compact JSON."""
    envelope = {"signature": body_signature(payload, secrets)}
    envelope.update(
        (k, payload[k]) for k in ("event", "created_at", "data") if k in payload
    )  # Serene's order
    envelope.update((k, v) for k, v in payload.items() if k not in envelope)
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False).encode()


def headers(msg_id: str, at: datetime, body: bytes, secrets: Sequence[str]) -> dict[str, str]:
    """The Standard Webhooks headers for one attempt sent at `at`."""
    timestamp = str(int(at.timestamp()))
    content = f"{msg_id}.{timestamp}.".encode() + body
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": timestamp,
        "webhook-signature": sign(secrets, content),
        "content-type": "application/json",
    }


def verify_body_signature(envelope: Mapping[str, Any], secret: str) -> bool:
    """True if one of the envelope's `v1,` signatures was made with `secret` (for receivers, tests)."""
    unsigned = {k: v for k, v in envelope.items() if k != "signature"}
    expected = _v1(secret_key(secret), canonical_json(unsigned).encode())
    presented = str(envelope.get("signature", "")).split(" ")
    return any(hmac.compare_digest(expected, candidate) for candidate in presented)
