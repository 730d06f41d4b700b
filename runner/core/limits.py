"""Per-login limits that hold across every worker: kept in the database, not in process memory.

A portal login allows `max_sessions` attempts at once and `rate_per_minute` attempt starts in
any 60 seconds, fleet-wide. An attempt takes a hold (`PortalSession` row) before it opens a
browser context and gives it back when it ends. A hold counts as live while it has not ended
and its task still carries the lease it was taken under (same token, lease unexpired): a worker
killed mid-attempt frees its hold when its lease runs out, without anyone cleaning up.

Acquiring locks the login's row (`FOR UPDATE` on PostgreSQL; SQLite's immediate transactions
serialise all writers), so two workers never both take the last slot.

Slots: each hold takes the lowest of the login's `max_sessions` slots that no live hold has, and
its attempt uses that slot's portal session (runner.core.execution): two attempts at once never
share a portal session. Portals keep state in a session (a multi-step wizard's draft: a second
wizard opened in the same session resets the first), and a login's `max_sessions` is the
portal's count of sessions, not of browser tabs on one.

Lanes: a login with `max_sessions > 1` keeps one session for interactive work. Batch tasks hold
at most `max_sessions - 1` of its sessions at once, so the front desk's urgent check finds a
session free however large the nightly batch is; interactive tasks may use them all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from runner.core.db import session_scope
from runner.core.queue import Lease, Queue
from runner.core.states import Priority
from runner.core.tables import PortalCredential, PortalSession, Task, utcnow
from runner.core.tables.base import as_utc

WINDOW = timedelta(seconds=60)
# How soon to ask again when every session is taken (a hold can end at any moment).
SESSION_RETRY_SECONDS = 1.0


def batch_rate(rate_per_minute: int) -> int:
    """Starts per minute batch tasks may take of a login: all but a tenth (at least one) of its
    rate, so an interactive task always finds a start left in the minute."""
    return rate_per_minute - max(1, rate_per_minute // 10) if rate_per_minute > 1 else rate_per_minute


@dataclass(frozen=True)
class Hold:
    id: str
    credential_id: str
    # Which of the login's sessions this attempt uses (0 to max_sessions - 1); no other live hold
    # has it. Each slot's session is saved apart (`SavedSession`).
    slot: int = 0


@dataclass(frozen=True)
class Busy:
    """No hold now; ask again in `retry_in` seconds."""

    retry_in: float
    reason: str


class LoginLimits:
    def __init__(self, engine: sa.Engine, queue: Queue, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._engine = engine
        self._queue = queue
        self._clock = clock

    def acquire(self, credential_id: str, lease: Lease) -> Hold | Busy:
        """A hold on the login for this attempt, or how long to wait. LeaseLost if the task is gone."""
        now = self._clock()
        with session_scope(self._engine) as session:
            task = self._queue.hold(session, lease)
            credential = session.exec(
                select(PortalCredential).where(PortalCredential.id == credential_id).with_for_update()
            ).one()
            live: dict[str, int] = {
                hold_id: slot for hold_id, slot in session.execute(self._live_slots(credential_id, now))
            }
            live_ids = set(live)
            recent: list[datetime] = []
            for row in session.exec(
                select(PortalSession).where(PortalSession.credential_id == credential_id)
            ):
                started = as_utc(row.started_at)
                assert started is not None
                if started > now - WINDOW:
                    recent.append(started)
                elif row.id not in live_ids:
                    session.delete(row)  # neither live nor in the rate window: counts for nothing
            recent.sort()
            if len(live_ids) >= credential.max_sessions:
                return Busy(
                    SESSION_RETRY_SECONDS,
                    f"all {credential.max_sessions} sessions of this portal login are in use",
                )
            if task.priority == Priority.BATCH.value and credential.max_sessions > 1:
                reserve = credential.max_sessions - 1
                batch_live = session.exec(
                    self._live(credential_id, now).where(col(Task.priority) == Priority.BATCH.value)
                ).all()
                if len(batch_live) >= reserve:
                    return Busy(
                        SESSION_RETRY_SECONDS,
                        f"batch tasks use at most {reserve} of this portal login's "
                        f"{credential.max_sessions} sessions (one is kept for interactive work)",
                    )
            rate = credential.rate_per_minute
            if task.priority == Priority.BATCH.value:
                rate = batch_rate(rate)
            if rate > 0 and len(recent) >= rate:
                frees_at = recent[len(recent) - rate] + WINDOW
                return Busy(
                    max(0.05, (frees_at - now).total_seconds()),
                    f"this portal login has started {rate} sessions in the last minute",
                )
            slot = min(set(range(credential.max_sessions)) - set(live.values()))
            hold = PortalSession(
                credential_id=credential_id,
                task_id=lease.task_id,
                lease_token=lease.token,
                slot=slot,
                started_at=now,
            )
            session.add(hold)
            return Hold(hold.id, credential_id, slot)

    def release(self, hold: Hold) -> None:
        with session_scope(self._engine) as session:
            session.execute(
                sa.update(PortalSession)
                .where(col(PortalSession.id) == hold.id)
                .values(ended_at=self._clock())
            )

    def in_use(self, credential_id: str) -> int:
        """Live holds on a login now (for operators and tests)."""
        with session_scope(self._engine, readonly=True) as session:
            return len(session.exec(self._live(credential_id, self._clock())).all())

    @staticmethod
    def _live_slots(credential_id: str, now: datetime) -> sa.Select[Any]:
        """(id, slot) of the login's live holds."""
        return LoginLimits._live(credential_id, now).add_columns(col(PortalSession.slot))

    @staticmethod
    def _live(credential_id: str, now: datetime) -> SelectOfScalar[str]:
        """Ids of the login's live holds."""
        return (
            select(PortalSession.id)
            .join(Task, col(Task.id) == col(PortalSession.task_id))
            .where(PortalSession.credential_id == credential_id)
            .where(col(PortalSession.ended_at).is_(None))
            .where(col(Task.lease_token) == col(PortalSession.lease_token))
            .where(col(Task.lease_expires_at) > now)
        )
