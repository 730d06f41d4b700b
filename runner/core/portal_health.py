"""Portal health in the database: the breaker rules (`breaker.py`) applied to one row per portal,
so that every worker sees the same state.

A healthy portal costs a read per attempt, never a write: its row is locked only when there is
something to change (a fault, or the first answer after faults). Locks are taken in one order,
the portal's row first and task rows after (an attempt's end records it, then concludes its task,
in one transaction), so two workers never wait on each other in opposite orders.

Side effects of the rules: when a run of faults trips the breaker, the attempts it cost are
given back and those tasks wait for the portal (`Task.held_for_portal`); when the portal answers
again, every task held for it is due at once; a portal down longer than `alert_after_seconds`
sends `portal_down` (opt-in) to each account with a login on it.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from runner.core import breaker
from runner.core.breaker import Admit, BreakerRules, PortalState, Signal, Verdict, Wait
from runner.core.db import session_scope
from runner.core.public import iso_z
from runner.core.queue import Lease
from runner.core.states import TaskStatus
from runner.core.tables import Account, PortalCredential, PortalHealth, Task, utcnow
from runner.core.tables.base import as_utc
from runner.core.transitions import record
from runner.core.webhooks import outbox
from runner.core.webhooks.events import WebhookEvent

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Held:
    """The attempt ended on a portal that is down: it is given back, not counted."""

    until: datetime
    note: str


@dataclass(frozen=True)
class PortalView:
    """One portal's health as operators see it (console, metrics)."""

    key: str
    state: PortalState
    consecutive_faults: int
    last_fault: str | None
    down_since: datetime | None
    next_probe_at: datetime | None
    held_tasks: int


def held_note(key: str, reason: str | None, until: datetime) -> str:
    why = f" ({reason.rstrip('.')})" if reason else ""
    return (
        f"The portal at {key} is down{why}: this task waits for it without spending an attempt; "
        f"it is checked again at {until:%Y-%m-%d %H:%M} UTC."
    )


class PortalHealthBook:
    def __init__(
        self,
        engine: sa.Engine,
        rules: BreakerRules = BreakerRules(),
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._engine = engine
        self.rules = rules
        self._clock = clock

    def admit(self, key: str, lease: Lease) -> Admit | Wait:
        """Before an attempt opens a browser: go on, go on as the probe, or wait for the portal."""
        if not self.rules.enabled or not self._down(key):
            return Admit()
        now = self._clock()
        with session_scope(self._engine) as session:
            row = _locked(session, key, now)
            live = _probe_live(session, row, now)
            decision = breaker.admit(
                row, task_id=lease.task_id, token=lease.token, probe_live=live, now=now, rules=self.rules
            )
            if isinstance(decision, Wait):
                self._alert_if_due(session, row, now)
            elif decision.probe:
                log.info("portal probe", extra={"portal": key, "task_id": lease.task_id})
            session.add(row)
        return decision

    def record(self, session: Session, key: str, lease: Lease, verdict: Verdict) -> Held | None:
        """What an attempt's end says about its portal, written in the caller's transaction (the
        one that concludes the attempt, so that a trip never misses an attempt still being
        concluded); a Held if the attempt is to be given back instead of counted."""
        if not self.rules.enabled or verdict.signal is Signal.NOTHING:
            return None
        now = self._clock()
        if verdict.signal is Signal.ANSWERED:
            if breaker.needs_reset(session.get(PortalHealth, key)):
                self._answered(session, key, now)
            return None
        row = _locked(session, key, now)
        was_up = row.state == PortalState.UP
        refund = breaker.on_fault(
            row,
            task_id=lease.task_id,
            token=lease.token,
            reason=verdict.reason or "the portal failed",
            now=now,
            rules=self.rules,
        )
        session.add(row)
        if not breaker.is_down(row):
            return None
        until = as_utc(row.next_probe_at) or now
        note = held_note(key, row.last_fault, until)
        if was_up:
            log.warning("portal down", extra={"portal": key, "faults": row.consecutive_faults})
            _give_back(session, key, Counter(refund), until, note)
        self._alert_if_due(session, row, now)
        return Held(until, note)

    def views(self, *, account_id: str | None = None) -> list[PortalView]:
        """Every portal with a row, with how many tasks wait for it (of one account, if given:
        never another account's figures in its console)."""
        with session_scope(self._engine, readonly=True) as session:
            rows = session.exec(select(PortalHealth).order_by(col(PortalHealth.key))).all()
            counting = (
                select(Task.held_for_portal, sa.func.count())
                .where(col(Task.held_for_portal).is_not(None))
                .where(Task.status == TaskStatus.PENDING)
                .group_by(col(Task.held_for_portal))
            )
            if account_id is not None:
                counting = counting.where(Task.account_id == account_id)
            held = dict(session.execute(counting).all())
        return [
            PortalView(
                key=row.key,
                state=PortalState(row.state),
                consecutive_faults=row.consecutive_faults,
                last_fault=row.last_fault,
                down_since=as_utc(row.down_since),
                next_probe_at=as_utc(row.next_probe_at),
                held_tasks=int(held.get(row.key, 0)),
            )
            for row in rows
        ]

    def down_for_account(self, account_id: str) -> list[PortalView]:
        """The portals of this account's logins that are down now (for the console's banner)."""
        with session_scope(self._engine, readonly=True) as session:
            urls = session.exec(select(PortalCredential.url).where(PortalCredential.account_id == account_id))
            keys = {breaker.portal_key(url) for url in urls}
            if not session.exec(
                select(PortalHealth.key)
                .where(col(PortalHealth.key).in_(keys))
                .where(PortalHealth.state != PortalState.UP.value)
            ).first():
                return []  # the common case: one cheap read per page
        views = self.views(account_id=account_id)
        return [v for v in views if v.key in keys and v.state is not PortalState.UP]

    # -- internals --------------------------------------------------------------------------------

    def _down(self, key: str) -> bool:
        """A lock-free read: is this portal down (the only case where admitting takes a lock)?"""
        with session_scope(self._engine, readonly=True) as session:
            row = session.get(PortalHealth, key)
        return row is not None and breaker.is_down(row)

    def _answered(self, session: Session, key: str, now: datetime) -> None:
        row = _locked(session, key, now)
        if breaker.on_answer(row, now=now):
            woken = session.execute(
                sa.update(Task)
                .where(col(Task.held_for_portal) == key)
                .where(col(Task.status) == TaskStatus.PENDING)
                .values(run_after=now, held_for_portal=None)
                .execution_options(synchronize_session=False)
            )
            log.info("portal up again", extra={"portal": key, "resumed": woken.rowcount})  # type: ignore[attr-defined]
        session.add(row)

    def _alert_if_due(self, session: Session, row: PortalHealth, now: datetime) -> None:
        if not breaker.alert_due(row, now=now, rules=self.rules):
            return
        row.alerted_at = now
        logins = session.exec(
            select(PortalCredential.account_id, PortalCredential.payer, PortalCredential.url)
        ).all()
        payers: dict[str, set[str]] = {}
        for account_id, payer, url in logins:
            if breaker.portal_key(url) == row.key:
                payers.setdefault(account_id, set()).add(payer)
        for account_id, names in sorted(payers.items()):
            account = session.get(Account, account_id)
            if account is None or WebhookEvent.PORTAL_DOWN not in account.webhook_events:
                continue
            waiting = session.execute(
                select(sa.func.count())
                .select_from(Task)
                .where(Task.account_id == account_id)
                .where(col(Task.held_for_portal) == row.key)
                .where(Task.status == TaskStatus.PENDING)
            ).scalar_one()
            data = {
                "portal": row.key,
                "payers": sorted(names),
                "state": PortalState(row.state).value,
                "down_since": iso_z(row.down_since),
                "last_fault": row.last_fault,
                "next_check_at": iso_z(row.next_probe_at),
                "tasks_waiting": int(waiting),
            }
            outbox.account_event(session, account, WebhookEvent.PORTAL_DOWN, data, now)
        log.warning(
            "portal down for long; portal_down sent", extra={"portal": row.key, "accounts": len(payers)}
        )


def _locked(session: Session, key: str, now: datetime) -> PortalHealth:
    """The portal's row, created if new, locked for this transaction."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(PortalHealth)
        .values(
            key=key,
            state=PortalState.UP.value,
            consecutive_faults=0,
            streak=[],
            probe_failures=0,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["key"])
    )
    return session.exec(
        select(PortalHealth)
        .where(PortalHealth.key == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def _probe_live(session: Session, row: PortalHealth, now: datetime) -> bool:
    """The probe's task still holds the lease it probes under (a dead worker's probe is not)."""
    if row.probe_task_id is None or row.probe_token is None:
        return False
    found = session.exec(
        select(Task.id)
        .where(Task.id == row.probe_task_id)
        .where(Task.lease_token == row.probe_token)
        .where(col(Task.lease_owner).is_not(None))
        .where(col(Task.lease_expires_at) > now)
    ).first()
    return found is not None


def _give_back(session: Session, key: str, refund: Counter[str], until: datetime, note: str) -> None:
    """The attempts a run of faults cost, given back now that it proved the portal down."""
    if not refund:
        return
    tasks = session.exec(
        select(Task)
        .where(col(Task.id).in_(list(refund)))
        .where(Task.status == TaskStatus.PENDING)
        .with_for_update(skip_locked=True)
    ).all()
    for task in tasks:
        task.attempts = max(0, task.attempts - refund[task.id])
        task.run_after = until
        task.held_for_portal = key
        task.notes = note
        session.add(task)
        record(
            session,
            task,
            actor="breaker",
            kind="portal_down",
            message="Attempt given back: the portal is down.",
        )
