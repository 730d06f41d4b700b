"""Portal sessions: created at sign-in, ended by logout, idle timeout or absolute lifetime."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any


class Stage(StrEnum):
    PASSWORD_OK = "password_ok"  # noqa: S105 - a stage name: waiting for the TOTP code
    SIGNED_IN = "signed_in"


class EndReason(StrEnum):
    IDLE = "idle"
    LIFETIME = "lifetime"
    SIGNED_OUT = "signed_out"


@dataclass
class Session:
    sid: str
    payer: str
    username: str
    created_at: datetime
    last_seen: datetime
    stage: Stage = Stage.PASSWORD_OK
    acknowledged: bool = False
    tax_id: str = ""
    npi: str = ""
    drafts: dict[str, Any] = field(default_factory=dict)


class SessionStore:
    def __init__(self) -> None:
        self._sessions: dict[str, Session] = {}

    def create(self, payer: str, username: str, now: datetime) -> Session:
        session = Session(secrets.token_urlsafe(24), payer, username, now, now)
        self._sessions[session.sid] = session
        return session

    def get(self, sid: str | None, payer: str) -> Session | None:
        session = self._sessions.get(sid or "")
        return session if session and session.payer == payer else None

    def end(self, sid: str) -> None:
        self._sessions.pop(sid, None)

    def expired(
        self, session: Session, now: datetime, *, idle_seconds: int, lifetime_seconds: int
    ) -> EndReason | None:
        """Why this session is over at `now`, if it is; an over session is also forgotten."""
        reason = None
        if now - session.created_at > timedelta(seconds=lifetime_seconds):
            reason = EndReason.LIFETIME
        elif now - session.last_seen > timedelta(seconds=idle_seconds):
            reason = EndReason.IDLE
        if reason:
            self.end(session.sid)
        return reason

    def active_count(self) -> int:
        return len(self._sessions)
