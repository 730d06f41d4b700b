"""Accounts and their API keys: creation, listing, defaults, key checks."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from runner.core import keys, refs
from runner.core.crypto import SecretBox
from runner.core.db import read_connection, session_scope
from runner.core.errors import Conflict, InvalidRequest, NotFound, Unauthorized
from runner.core.tables import Account, ApiKey, utcnow
from runner.core.tables.base import as_utc, detached

WEBHOOK_SECRET = "webhook_secret"  # noqa: S105 (a purpose label)
PREVIOUS_WEBHOOK_SECRET = "previous_webhook_secret"  # noqa: S105 (a purpose label)


_KEYS: sa.Table = ApiKey.__table__  # type: ignore[attr-defined]
_ACCOUNTS: sa.Table = Account.__table__  # type: ignore[attr-defined]
_ACCOUNT_COLUMNS = [column.key for column in _ACCOUNTS.columns]
# The key's check and its account's row (NULLs when the account is gone), in one statement built
# once: this runs on every request. Core, not the ORM: the account is built from its row (`detached`).
_KEY_AND_ACCOUNT = (
    sa.select(_KEYS.c.secret_hash, _KEYS.c.revoked_at, *_ACCOUNTS.columns)
    .select_from(_KEYS.outerjoin(_ACCOUNTS, _ACCOUNTS.c.id == _KEYS.c.account_id))
    .where(_KEYS.c.id == sa.bindparam("key_id"))
)


@dataclass(frozen=True)
class CreatedAccount:
    account: Account
    api_key: str
    api_key_id: str
    webhook_secret: str


class Accounts:
    def __init__(
        self,
        engine: sa.Engine,
        box: SecretBox,
        *,
        url_check: Callable[[str], str] | None = None,
        key_cache_seconds: float = 0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`key_cache_seconds`: how long a key that passed `authenticate` is taken without reading
        the database again (`keys.VerifiedKeys`: what that trades); 0, every time."""
        self._engine = engine
        self._box = box
        # The destination policy for webhook URLs (runner.core.destinations), injected by `system.build`.
        self._url_check = url_check
        self._verified: keys.VerifiedKeys[Account] = keys.VerifiedKeys(key_cache_seconds, clock=clock)

    def create(self, name: str, *, webhook_url: str | None = None) -> CreatedAccount:
        name = name.strip()
        if not name:
            raise InvalidRequest("The account name is empty.")
        if webhook_url and self._url_check is not None:
            webhook_url = self._url_check(webhook_url)
        account = Account(name=name, webhook_url=webhook_url, webhook_secret_enc="")
        secret = keys.generate_webhook_secret()
        account.webhook_secret_enc = self._seal_webhook_secret(account.id, secret)
        new_key = keys.generate()
        try:
            with session_scope(self._engine) as session:
                session.add(account)
                session.flush()
                session.add(ApiKey(id=new_key.key_id, account_id=account.id, secret_hash=new_key.secret_hash))
        except IntegrityError as exc:
            raise Conflict(f"An account named {name!r} already exists.", name=name) from exc
        return CreatedAccount(account, new_key.plaintext, new_key.key_id, secret)

    def all(self) -> list[Account]:
        with session_scope(self._engine, readonly=True) as session:
            return list(session.exec(select(Account).order_by(col(Account.created_at))).all())

    def find(self, name_or_id: str) -> Account:
        """An account by id (its integer id or its UUID) or by name (the CLI accepts either)."""
        with session_scope(self._engine, readonly=True) as session:
            by_id = select(Account).where(refs.matching(Account.public_id, Account.id, name_or_id))
            account = (
                session.exec(by_id).first()
                or session.exec(select(Account).where(Account.name == name_or_id)).first()
            )
        if account is None:
            raise NotFound(f"No account named or with id {name_or_id!r}.")
        return account

    def set_defaults(self, account_id: str, defaults: Mapping[str, Any]) -> Account:
        """Merge `defaults` into the account's task defaults (a None value removes a default; a
        mapping, such as the follow-up switches, is merged key by key)."""
        with session_scope(self._engine) as session:
            account = session.get(Account, account_id)
            if account is None:
                raise NotFound("No such account.")
            merged = dict(account.defaults)
            for key, value in defaults.items():
                if value is None:
                    merged.pop(key, None)
                elif isinstance(value, Mapping) and isinstance(merged.get(key), dict):
                    merged[key] = {**merged[key], **value}
                else:
                    merged[key] = value
            account.defaults = merged
            account.updated_at = utcnow()
            session.add(account)
        self._verified.clear()  # checked keys carry their account's defaults
        return account

    def set_webhook_url(self, account_id: str, url: str | None) -> Account:
        if url and self._url_check is not None:
            url = self._url_check(url)
        with session_scope(self._engine) as session:
            account = session.get(Account, account_id)
            if account is None:
                raise NotFound("No such account.")
            account.webhook_url = url
            account.webhook_disabled_at = None
            account.updated_at = utcnow()
            session.add(account)
        self._verified.clear()
        return account

    def webhook_secret(self, account: Account) -> str:
        return self._box.open(
            account.webhook_secret_enc, purpose=WEBHOOK_SECRET, account_id=account.id, record_id=account.id
        )

    def _seal_webhook_secret(self, account_id: str, secret: str) -> str:
        return self._box.seal(secret, purpose=WEBHOOK_SECRET, account_id=account_id, record_id=account_id)

    def webhook_secrets(self, account: Account, now: datetime) -> tuple[str, ...]:
        """The secrets that sign right now: the current one, then the previous during its overlap."""
        secrets: tuple[str, ...] = (self.webhook_secret(account),)
        expires = as_utc(account.previous_webhook_secret_expires_at)
        if account.previous_webhook_secret_enc and expires is not None and now < expires:
            previous = self._box.open(
                account.previous_webhook_secret_enc,
                purpose=PREVIOUS_WEBHOOK_SECRET,
                account_id=account.id,
                record_id=account.id,
            )
            secrets = (*secrets, previous)
        return secrets

    def rotate_webhook_secret(
        self, account_id: str, *, overlap: timedelta, now: datetime | None = None
    ) -> str:
        """A new `whsec_` secret; the old one keeps signing too until `now + overlap` (then only the new).

        Only one previous secret is kept: rotating again during an overlap drops the oldest.
        """
        now = now or utcnow()
        secret = keys.generate_webhook_secret()
        with session_scope(self._engine) as session:
            account = session.get(Account, account_id, with_for_update=True)
            if account is None:
                raise NotFound("No such account.")
            old = self.webhook_secret(account)
            account.webhook_secret_enc = self._seal_webhook_secret(account.id, secret)
            if overlap > timedelta(0):
                account.previous_webhook_secret_enc = self._box.seal(
                    old, purpose=PREVIOUS_WEBHOOK_SECRET, account_id=account.id, record_id=account.id
                )
                account.previous_webhook_secret_expires_at = now + overlap
            else:
                account.previous_webhook_secret_enc = None
                account.previous_webhook_secret_expires_at = None
            account.updated_at = now
            session.add(account)
        self._verified.clear()
        return secret

    # -- API keys -------------------------------------------------------------------------

    def create_key(self, account_id: str, *, label: str | None = None) -> tuple[ApiKey, str]:
        new_key = keys.generate()
        row = ApiKey(id=new_key.key_id, account_id=account_id, secret_hash=new_key.secret_hash, label=label)
        with session_scope(self._engine) as session:
            if session.get(Account, account_id) is None:
                raise NotFound("No such account.")
            session.add(row)
        return row, new_key.plaintext

    def list_keys(self, account_id: str) -> list[ApiKey]:
        with session_scope(self._engine, readonly=True) as session:
            statement = select(ApiKey).where(ApiKey.account_id == account_id).order_by(col(ApiKey.created_at))
            return list(session.exec(statement).all())

    def revoke_key(self, key_id: str) -> ApiKey:
        key_id = keys.key_id_of(key_id) or key_id  # the whole key, or just its public id
        with session_scope(self._engine) as session:
            row = session.get(ApiKey, key_id)
            if row is None:
                raise NotFound(f"No API key with id {key_id!r}.")
            if row.revoked_at is None:
                row.revoked_at = utcnow()
                session.add(row)
        self._verified.clear()  # after the commit: a check from now on reads the revocation
        return row

    def authenticate(self, presented: str) -> Account:
        """The account a presented API key belongs to; Unauthorized if unknown or revoked. A key
        that passed within `key_cache_seconds` is not read again (the same account is returned)."""
        known = self._verified.get(presented)
        if known is not None:
            return known
        generation = self._verified.generation
        account = self._check(presented)
        self._verified.put(presented, account, generation=generation)
        return account

    def _check(self, presented: str) -> Account:
        key_id = keys.key_id_of(presented)
        if key_id is None:
            raise Unauthorized("The API key is malformed: expected `Authorization: Bearer sk_...`.")
        with read_connection(self._engine) as connection:
            found = connection.execute(_KEY_AND_ACCOUNT, {"key_id": key_id}).first()
        if found is None or not keys.matches(presented, found[0]):
            raise Unauthorized("The API key is not valid.")
        if found[1] is not None:
            raise Unauthorized("The API key has been revoked.")
        account = dict(zip(_ACCOUNT_COLUMNS, found[2:], strict=True))
        if account["id"] is None:
            raise Unauthorized("The API key is not valid.")
        return detached(Account, account)
