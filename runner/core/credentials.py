"""Portal logins: stored encrypted, chosen by payer, stopped before the portal locks them out, and
their URLs held to the destination policy (runner.core.destinations)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from runner.core.crypto import DecryptionFailed, SecretBox
from runner.core.db import session_scope
from runner.core.destinations import AddressGuard
from runner.core.errors import Conflict, InvalidRequest, NotFound, UnsafeDestination
from runner.core.settings import MAX_LISTING_DELAY
from runner.core.tables import PortalCredential, SavedSession, utcnow

log = logging.getLogger(__name__)

PASSWORD = "portal_password"  # noqa: S105 - a purpose label, not a password
TOTP = "portal_totp_secret"
SESSION = "portal_session"
# Most portals lock an account after 5 bad passwords; stop well before that.
MAX_LOGIN_FAILURES = 2
MAX_NAME = 200


class Choosable(Protocol):
    """What choosing a login for a payer reads of it (a `PortalCredential` or a `LoginChoice`)."""

    @property
    def payer(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def serves(self) -> list[str]: ...
    @property
    def disabled_at(self) -> datetime | None: ...


C = TypeVar("C", bound=Choosable)


@dataclass(frozen=True)
class LoginChoice:
    """A login as `route` reads it: the choosing columns, without its secrets or its session."""

    id: str
    payer: str
    name: str
    serves: list[str]
    disabled_at: datetime | None


_LOGINS: sa.Table = PortalCredential.__table__  # type: ignore[attr-defined]
# `LoginChoice`'s columns, in the account's order (as `of_account`).
_CHOICES = (
    sa.select(*(_LOGINS.c[name] for name in ("id", "payer", "name", "serves", "disabled_at")))
    .where(_LOGINS.c.account_id == sa.bindparam("account_id"))
    .order_by(_LOGINS.c.payer, _LOGINS.c.username)
)


@dataclass(frozen=True)
class Secrets:
    password: str
    totp_secret: str | None


class PortalCredentials:
    def __init__(
        self,
        engine: sa.Engine,
        box: SecretBox,
        *,
        guard: AddressGuard | None = None,
        names: Mapping[str, str] | None = None,
    ) -> None:
        self._engine = engine
        self._box = box
        # The destination policy for portal URLs, injected by `system.build`.
        self._guard = guard
        # The portal registry's display names by portal key (handlers.portals), given at the edge.
        self._names = dict(names or {})

    @property
    def default_names(self) -> Mapping[str, str]:
        """The portal registry's names by key: what a new login is called unless named."""
        return dict(self._names)

    def add(
        self,
        account_id: str,
        *,
        payer: str,
        url: str,
        username: str,
        password: str,
        totp_secret: str | None,
        serves: list[str] | None = None,
        max_sessions: int = 2,
        rate_per_minute: int = 30,
        name: str | None = None,
        listing_delay: int | None = None,
    ) -> PortalCredential:
        """Add a login, or replace the secrets of the same payer + username (clears a stop).

        `name` is the portal as a person knows it; a new login without one takes the portal
        registry's name for the key, a replaced one keeps its own. `listing_delay`: seconds the
        portal may take to list a new submission (None: the fleet's setting)."""
        payer = payer.strip().lower()
        name = " ".join((name or "").split())
        if len(name) > MAX_NAME or not name.isprintable():
            raise InvalidRequest(f"The portal name must be printable text of at most {MAX_NAME} characters.")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InvalidRequest(f"The portal URL {url!r} must be an absolute http(s) URL.")
        if self._guard is not None:
            self._guard.check_url(url)
        if not username or not password:
            raise InvalidRequest("A portal login needs a username and a password.")
        if max_sessions < 1 or rate_per_minute < 1:
            raise InvalidRequest("--max-sessions and --rate-per-minute must be at least 1.")
        if listing_delay is not None and not 0 <= listing_delay <= MAX_LISTING_DELAY:
            raise InvalidRequest(
                f"The listing delay must be 0 to {MAX_LISTING_DELAY // 3600} hours (in seconds here)."
            )
        try:
            with session_scope(self._engine) as session:
                row = session.exec(
                    select(PortalCredential).where(
                        PortalCredential.account_id == account_id,
                        PortalCredential.payer == payer,
                        PortalCredential.username == username,
                    )
                ).first()
                if row is None:
                    row = PortalCredential(
                        account_id=account_id, payer=payer, url=url, username=username, password_enc=""
                    )
                    session.add(row)
                    session.flush()
                row.url = url.rstrip("/")
                row.name = name or row.name or self._names.get(payer, payer)
                row.serves = sorted({name.strip() for name in serves or [] if name.strip()})
                row.password_enc = self._seal(row, PASSWORD, password)
                row.totp_secret_enc = self._seal(row, TOTP, totp_secret) if totp_secret else None
                _forget_sessions(session, row.id)
                row.max_sessions = max_sessions
                row.rate_per_minute = rate_per_minute
                row.listing_delay = listing_delay
                row.consecutive_login_failures = 0
                row.disabled_at = None
                row.disabled_reason = None
                row.updated_at = utcnow()
                session.add(row)
        except IntegrityError as exc:
            raise Conflict("That portal login already exists.") from exc
        return row

    def of_account(self, account_id: str, *, session: Session | None = None) -> list[PortalCredential]:
        """The account's logins; inside the caller's transaction if given."""
        if session is None:
            with session_scope(self._engine, readonly=True) as own:
                return self.of_account(account_id, session=own)
        statement = (
            select(PortalCredential)
            .where(PortalCredential.account_id == account_id)
            .order_by(col(PortalCredential.payer), col(PortalCredential.username))
        )
        return [row for row in session.exec(statement).all()]

    def for_payer(
        self,
        account_id: str,
        payer: str | None,
        *,
        names: Mapping[str, str] | None = None,
        session: Session | None = None,
    ) -> PortalCredential:
        """The login that runs this account's tasks for `payer`; NotFound names the configured ones.

        A task names its payer as the client knows it: the portal key (`acme`), the portal's name
        (the login's own, or the registry's `Acme Health`), a name that starts with the key (`Acme
        Health PPO`), or one of the payers the login `serves` (the insurers reached through a
        multi-payer exchange).
        """
        rows = self.of_account(account_id, session=session)
        found = _choose(rows, payer, {**self._names, **(names or {})})
        if found is None:
            raise NotFound(
                f"No portal login is configured for payer {payer or '(none given)'!r}; "
                f"configured payers: {configured_payers(rows)}.",
                payer=payer,
                configured=sorted({r.payer for r in rows}),
            )
        return found

    def route(
        self, account_id: str, payer: str | None, *, session: Session | None = None
    ) -> tuple[LoginChoice | None, str | None]:
        """The login that will run a task for `payer` (as `for_payer` chooses it), or why there is
        none (a clerk's sentence naming the payers the account has logins for and how to add one).
        No payer: neither, the input check asks for it. Inside the caller's transaction if given.

        Every create asks: this reads the choosing columns only, never the secrets or the stored
        session (which may be large), with a statement built once."""
        if not payer:
            return None, None
        if session is None:
            with session_scope(self._engine, readonly=True) as own:
                return self.route(account_id, payer, session=own)
        rows = [
            LoginChoice(*row) for row in session.connection().execute(_CHOICES, {"account_id": account_id})
        ]
        found = _choose(rows, payer, self._names)
        if found is not None:
            return found, None
        return None, (
            f"no portal login is set up for {payer!r} (this account has logins for "
            f"{configured_payers(rows)}); an admin adds one in the console's Settings or with "
            "`sopwright portals add`, then POST /tasks/{id}/input (an empty body will do) runs the task"
        )

    def refusal(self, row: PortalCredential) -> str | None:
        """Why the browser must not open this login's URL now, or None: run before each attempt,
        since the row may predate the policy or the allow list may have changed since. A name that
        does not resolve now passes (the egress gate refuses it if it still does not)."""
        if self._guard is None:
            return None
        try:
            self._guard.check_url(row.url, warn_unresolvable=False)
        except UnsafeDestination as exc:
            return exc.message
        return None

    def get(self, credential_id: str) -> PortalCredential:
        with session_scope(self._engine, readonly=True) as session:
            row = session.get(PortalCredential, credential_id)
        if row is None:
            raise NotFound("No such portal login.")
        return row

    def secrets(self, row: PortalCredential) -> Secrets:
        return Secrets(
            password=self._open(row, PASSWORD, row.password_enc),
            totp_secret=self._open(row, TOTP, row.totp_secret_enc) if row.totp_secret_enc else None,
        )

    def saved_session(self, row: PortalCredential, slot: int) -> str | None:
        """The last good session of the login's session slot `slot` (Playwright storage state
        JSON), or None: an attempt on that slot then signs in."""
        with session_scope(self._engine, readonly=True) as session:
            saved = session.get(SavedSession, (row.id, slot))
            sealed = saved.storage_state_enc if saved is not None else None
        if sealed is None:
            return None
        try:
            return self._open(row, _session_purpose(slot), sealed)
        except DecryptionFailed:  # (a key changed, a row copied): signing in again costs less
            log.warning("a saved portal session does not decrypt; signing in", extra={"slot": slot})
            return None

    def save_session(self, credential_id: str, slot: int, storage_state: str | None) -> None:
        """Save the session of one slot of the login; None forgets it (it ended)."""
        with session_scope(self._engine) as session:
            row = session.get(PortalCredential, credential_id)
            if row is None:
                return
            saved = session.get(SavedSession, (credential_id, slot))
            if storage_state is None:
                if saved is not None:
                    session.delete(saved)
                return
            sealed = self._seal(row, _session_purpose(slot), storage_state)
            if saved is None:
                saved = SavedSession(credential_id=credential_id, slot=slot, storage_state_enc=sealed)
            else:
                saved.storage_state_enc, saved.saved_at = sealed, utcnow()
            session.add(saved)

    def forget_sessions(self, credential_id: str) -> None:
        """Forget every saved session of the login: its next attempts sign in."""
        with session_scope(self._engine) as session:
            _forget_sessions(session, credential_id)

    def login_succeeded(self, credential_id: str) -> None:
        with session_scope(self._engine) as session:
            row = session.get(PortalCredential, credential_id)
            if row is not None and row.consecutive_login_failures:
                row.consecutive_login_failures = 0
                session.add(row)

    def login_refused(self, credential_id: str, reason: str) -> bool:
        """Count a refused login; returns True when the login is now stopped."""
        with session_scope(self._engine) as session:
            row = session.get(PortalCredential, credential_id)
            if row is None:
                return False
            row.consecutive_login_failures += 1
            _forget_sessions(session, row.id)
            if row.consecutive_login_failures >= MAX_LOGIN_FAILURES and row.disabled_at is None:
                row.disabled_at = utcnow()
                row.disabled_reason = reason[:500]
            session.add(row)
            return row.disabled_at is not None

    def _seal(self, row: PortalCredential, purpose: str, value: str) -> str:
        return self._box.seal(value, purpose=purpose, account_id=row.account_id, record_id=row.id)

    def _open(self, row: PortalCredential, purpose: str, value: str) -> str:
        return self._box.open(value, purpose=purpose, account_id=row.account_id, record_id=row.id)


def _session_purpose(slot: int) -> str:
    """What a slot's saved session is sealed for: a ciphertext of one slot does not open as
    another's. (Slot 0 keeps the purpose of the login's one session before slots had their own.)"""
    return SESSION if slot == 0 else f"{SESSION}:{slot}"


def _forget_sessions(session: Session, credential_id: str) -> None:
    """Forget every saved session of the login (its password changed, or the portal refused it)."""
    session.execute(sa.delete(SavedSession).where(col(SavedSession.credential_id) == credential_id))


def configured_payers(rows: Sequence[Choosable]) -> str:
    """The payers an account's logins reach, as a person reads them: "Beacon Exchange (beacon;
    also Bluebird Health Plan), Acme Health (acme)", or "none"."""
    parts = []
    for r in rows:
        also = f"; also {', '.join(r.serves)}" if r.serves else ""
        parts.append(f"{r.name or r.payer} ({r.payer}{also})")
    return ", ".join(dict.fromkeys(parts)) or "none"


def _choose(rows: Sequence[C], payer: str | None, names: Mapping[str, str]) -> C | None:
    """The login of `rows` (in the account's order) that runs `payer`'s tasks: the first usable
    one that matches, else the first stopped one that does (its task then says it is stopped)."""
    wanted = _squash(payer or "")
    if not wanted:
        return None
    matches = [
        r
        for r in rows
        if wanted.startswith(_squash(r.payer))
        or wanted in {_squash(r.name), _squash(names.get(r.payer, ""))} - {""}
        or wanted in {_squash(name) for name in r.serves}
    ]
    usable = [r for r in matches if r.disabled_at is None]
    return usable[0] if usable else (matches[0] if matches else None)


def _squash(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())
