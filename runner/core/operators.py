"""Operators: the people of an account who use the console; passwords, lockout and sessions.

Passwords are stored as argon2id hashes. After `MAX_FAILED_SIGN_INS` wrong passwords in a row a
login is locked for `LOCKOUT`. A session is a random cookie token of which only the SHA-256 is
stored; it ends after `SESSION_IDLE` without use or `SESSION_LIFETIME` in all, and carries the
per-session CSRF token the console's forms echo back.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select

from runner.core.db import session_scope
from runner.core.errors import Conflict, InvalidRequest, NotFound, SopwrightError, Unauthorized
from runner.core.tables import Account, Operator, OperatorSession, utcnow
from runner.core.tables.base import as_utc

MAX_FAILED_SIGN_INS = 5
LOCKOUT = timedelta(minutes=15)
SESSION_IDLE = timedelta(hours=2)
SESSION_LIFETIME = timedelta(hours=12)
MIN_PASSWORD_CHARS = 12
_TOUCH_EVERY = timedelta(minutes=1)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# One answer for an unknown e-mail, a wrong password and a locked login, so that the sign-in page
# does not tell which e-mails have a login (or which are locked).
WRONG_CREDENTIALS = (
    f"The email or the password is not right. After {MAX_FAILED_SIGN_INS} wrong passwords in a row a "
    f"login is locked for {LOCKOUT.seconds // 60} minutes; an admin can unlock it sooner."
)


class Role(StrEnum):
    """Viewers read; reviewers also answer input and review; admins also manage the account."""

    VIEWER = "viewer"
    REVIEWER = "reviewer"
    ADMIN = "admin"

    def allows(self, needed: Role) -> bool:
        order = list(Role)
        return order.index(self) >= order.index(needed)


class Forbidden(SopwrightError):
    """The operator's role does not allow this action."""

    code = "forbidden"


@dataclass(frozen=True)
class SignedIn:
    operator: Operator
    session: OperatorSession
    account: Account

    @property
    def role(self) -> Role:
        return Role(self.operator.role)

    @property
    def actor(self) -> str:
        """How console actions are signed in task timelines."""
        return f"operator:{self.operator.email}"

    def require(self, needed: Role, action: str) -> None:
        if not self.role.allows(needed):
            raise Forbidden(
                f"Your role ({self.role.value}) cannot {action}; ask an admin for the {needed.value} role.",
                role=self.role.value,
                needed=needed.value,
            )


def session_id_of(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    if not _EMAIL.match(email) or len(email) > 320:
        raise InvalidRequest(f"{email!r} is not an email address.")
    return email


class Operators:
    def __init__(
        self,
        engine: sa.Engine,
        *,
        hasher: PasswordHasher | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._engine = engine
        self._hasher = hasher or PasswordHasher()
        self._clock = clock
        self._decoy: str | None = None

    # -- people ---------------------------------------------------------------------------

    def create(self, account_id: str, email: str, *, role: Role, password: str) -> Operator:
        email = normalise_email(email)
        _check_password(password)
        now = self._clock()
        row = Operator(
            account_id=account_id,
            email=email,
            role=role.value,
            password_hash=self._hasher.hash(password),
            created_at=now,
            updated_at=now,
        )
        try:
            with session_scope(self._engine) as session:
                if session.get(Account, account_id) is None:
                    raise NotFound("No such account.")
                session.add(row)
        except IntegrityError as exc:
            raise Conflict(f"An operator with email {email!r} already exists.", email=email) from exc
        return row

    def of_account(self, account_id: str) -> list[Operator]:
        with session_scope(self._engine, readonly=True) as session:
            statement = (
                select(Operator).where(Operator.account_id == account_id).order_by(col(Operator.email))
            )
            return list(session.exec(statement).all())

    def set_password(self, email: str, password: str) -> Operator:
        """A new password; clears a lockout and signs the operator out everywhere."""
        _check_password(password)
        with session_scope(self._engine) as session:
            row = self._by_email(session, email)
            row.password_hash = self._hasher.hash(password)
            row.failed_logins = 0
            row.locked_until = None
            row.updated_at = self._clock()
            session.add(row)
            session.exec(delete(OperatorSession).where(col(OperatorSession.operator_id) == row.id))
        return row

    def set_role(self, email: str, role: Role) -> Operator:
        with session_scope(self._engine) as session:
            row = self._by_email(session, email)
            row.role = role.value
            row.updated_at = self._clock()
            session.add(row)
        return row

    def unlock(self, email: str) -> Operator:
        with session_scope(self._engine) as session:
            row = self._by_email(session, email)
            row.failed_logins = 0
            row.locked_until = None
            session.add(row)
        return row

    @staticmethod
    def _by_email(session: Session, email: str) -> Operator:
        row = session.exec(select(Operator).where(Operator.email == email.strip().lower())).first()
        if row is None:
            raise NotFound(f"No operator with email {email.strip()!r}.")
        return row

    # -- sign-in and sessions -------------------------------------------------------------

    def sign_in(self, email: str, password: str) -> tuple[SignedIn, str]:
        """A new session and its cookie token; Unauthorized otherwise (the same for a locked login)."""
        now = self._clock()
        email = email.strip().lower()
        with session_scope(self._engine) as session:
            row = session.exec(select(Operator).where(Operator.email == email).with_for_update()).first()
            locked_until = as_utc(row.locked_until) if row is not None else None
            if (
                row is None
                or row.disabled_at is not None
                or (locked_until is not None and locked_until > now)
            ):
                # Verify against a decoy so that an unknown or locked login costs the same time as
                # a known one, and answer the same.
                self._decoy = self._decoy or self._hasher.hash(secrets.token_urlsafe(16))
                self._verify(self._decoy, password)
                raise Unauthorized(WRONG_CREDENTIALS)
            if not self._verify(row.password_hash, password):
                row.failed_logins += 1
                if row.failed_logins >= MAX_FAILED_SIGN_INS:
                    row.failed_logins = 0
                    row.locked_until = now + LOCKOUT
                session.add(row)
                # The failure is committed by leaving the block normally; the error is raised after.
            else:
                if self._hasher.check_needs_rehash(row.password_hash):
                    row.password_hash = self._hasher.hash(password)
                row.failed_logins = 0
                row.locked_until = None
                row.last_login_at = now
                session.add(row)
                session.exec(
                    delete(OperatorSession).where(
                        col(OperatorSession.operator_id) == row.id, col(OperatorSession.expires_at) < now
                    )
                )
                token = secrets.token_urlsafe(32)
                record = OperatorSession(
                    id=session_id_of(token),
                    operator_id=row.id,
                    account_id=row.account_id,
                    csrf_token=secrets.token_urlsafe(32),
                    created_at=now,
                    last_seen_at=now,
                    expires_at=now + SESSION_LIFETIME,
                )
                session.add(record)
                account = session.get(Account, row.account_id)
                assert account is not None
                return SignedIn(row, record, account), token
        raise Unauthorized(WRONG_CREDENTIALS)

    def session(self, token: str, *, activity: bool = True) -> SignedIn | None:
        """The signed-in operator of a cookie token, or None if unknown, expired or idle too long.

        `activity=False` (a page refreshing itself) reads the session without extending it, so a
        console left open on a screen still signs out after `SESSION_IDLE`.
        """
        if not token or len(token) > 200:
            return None
        now = self._clock()
        with session_scope(self._engine, readonly=True) as session:
            record = session.get(OperatorSession, session_id_of(token))
            if record is None:
                return None
            operator = session.get(Operator, record.operator_id)
            account = session.get(Account, record.account_id)
        if operator is None or account is None or operator.disabled_at is not None:
            return None
        last_seen = as_utc(record.last_seen_at) or now
        expires = as_utc(record.expires_at) or now
        if now >= expires or now - last_seen >= SESSION_IDLE:
            self.sign_out(token)
            return None
        if activity and now - last_seen >= _TOUCH_EVERY:
            with session_scope(self._engine) as session:
                session.exec(
                    sa.update(OperatorSession)
                    .where(col(OperatorSession.id) == record.id)
                    .values(last_seen_at=now)
                )
            record.last_seen_at = now
        return SignedIn(operator, record, account)

    def sign_out(self, token: str) -> None:
        with session_scope(self._engine) as session:
            session.exec(delete(OperatorSession).where(col(OperatorSession.id) == session_id_of(token)))

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise InvalidRequest(f"The password must be at least {MIN_PASSWORD_CHARS} characters.")
    if len(password) > 1024:
        raise InvalidRequest("The password is too long (at most 1024 characters).")
