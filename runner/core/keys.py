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
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

V = TypeVar("V")

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


class VerifiedKeys(Generic[V]):
    """Keys that passed the database check in the last `max_age` seconds, with what the check gave.

    The check of a presented key reads its row and its account's: on every request, and under
    concurrent requests the read costs far more than alone (with 16 `POST /tasks` at once on
    SQLite, 0.56 of a create's 1.7 ms of CPU; alone, under 0.1 ms: bench/create_cpu.py). A key
    seen again within `max_age` is taken on the earlier check's word. What that trades: a key
    revoked by another process (`sopwright keys revoke`, or an API process beside this one) still
    works here for up to `max_age` seconds, and an account's defaults changed there reach this
    process's creates as late. Changes made through this process (the console, the API) `clear`
    it at once. `max_age` 0 checks every time.

    Entries are keyed by the key's SHA-256, never the key; only keys that passed are kept (at most
    `size`, the oldest dropped). Thread-safe: `put` refuses a value read before the last `clear`,
    so a check that raced a revocation cannot keep the old answer.
    """

    def __init__(
        self, max_age: float, *, size: int = 1024, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._max_age = max_age
        self._size = size
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, tuple[float, V]] = OrderedDict()
        self._generation = 0

    @property
    def generation(self) -> int:
        """Read before the database check; hand to `put` with its result."""
        return self._generation

    def get(self, presented: str) -> V | None:
        if self._max_age <= 0:
            return None
        digest = hash_key(presented)
        with self._lock:
            entry = self._entries.get(digest)
            if entry is None:
                return None
            if self._clock() - entry[0] >= self._max_age:
                del self._entries[digest]
                return None
            return entry[1]

    def put(self, presented: str, value: V, *, generation: int) -> None:
        if self._max_age <= 0:
            return
        digest = hash_key(presented)
        with self._lock:
            if generation != self._generation:
                return  # cleared since this check read the database: its answer may be stale
            self._entries[digest] = (self._clock(), value)
            self._entries.move_to_end(digest)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._entries.clear()
