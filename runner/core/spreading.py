"""Due times for a batch's tasks: spread by each portal login's rate, so the payer is not hammered.

The tasks of one login are due `60 / batch_rate` seconds apart (`limits.batch_rate`, a little
under the login's `--rate-per-minute`, so interactive work always finds a start left in the
minute), after the last batch task already queued on that login. Tasks whose payer has no login
(they will wait for input naming the payer) and tasks a row put in the interactive lane are due
at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from runner.core.limits import batch_rate
from runner.core.states import Priority, TaskStatus
from runner.core.tables import PortalCredential, Task
from runner.core.tables.base import as_utc


class Spreader:
    """Due times for a batch's tasks: each login's tasks `60 / batch_rate` seconds apart, after
    the batch tasks already queued on that login."""

    def __init__(
        self, session: Session, account_id: str, logins: list[PortalCredential], now: datetime
    ) -> None:
        self._session = session
        self._account_id = account_id
        self._logins = logins
        self._now = now
        self._next: dict[str, datetime] = {}
        self._queued: dict[str, datetime] | None = None

    def next(self, payer: str | None, priority: Priority) -> datetime:
        login = self._login(payer)
        if login is None or priority is Priority.INTERACTIVE:
            return self._now
        gap = timedelta(seconds=60 / batch_rate(login.rate_per_minute))
        due = self._next.get(login.id)
        if due is None:
            due = max(self._now, self._queued_until(login) + gap)
        self._next[login.id] = due + gap
        return due

    def _login(self, payer: str | None) -> PortalCredential | None:
        wanted = _squash(payer or "")
        if not wanted:
            return None
        for login in self._logins:
            if wanted.startswith(_squash(login.payer)) or wanted in {_squash(s) for s in login.serves}:
                return login
        return None

    def _queued_until(self, login: PortalCredential) -> datetime:
        """The latest due time of the pending batch-lane tasks this login will run."""
        if self._queued is None:
            self._queued = {}
            latest_by_payer = self._session.exec(
                select(Task.payer, sa.func.max(Task.run_after))
                .where(Task.account_id == self._account_id)
                .where(Task.status == TaskStatus.PENDING)
                .where(Task.priority == Priority.BATCH.value)
                .where(col(Task.run_after) > self._now)
                .group_by(col(Task.payer))
            ).all()
            for payer, latest in latest_by_payer:
                owner = self._login(payer)
                due = as_utc(latest)
                if owner is not None and due is not None:
                    self._queued[owner.id] = max(due, self._queued.get(owner.id, due))
        return self._queued.get(login.id, self._now - timedelta(days=1))


def _squash(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())
