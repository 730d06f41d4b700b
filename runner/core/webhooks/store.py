"""Delivery rows: leasing due ones, recording attempts, the account-scoped log, redelivery.

A lease is `lease_owner` (a token unique to one claim) plus `lease_expires_at`. Claiming is one
conditional UPDATE on SQLite (inside its immediate transaction) and `FOR UPDATE SKIP LOCKED` on
PostgreSQL, so concurrent dispatchers never hold the same row. Settling is conditional on the
token: a dispatcher whose lease expired records its attempt but changes nothing else, and the
row is sent again by whoever claimed it next (at-least-once, same `webhook-id`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from runner.core import cursors, refs
from runner.core.db import is_sqlite, rowcount, session_scope
from runner.core.errors import NotFound
from runner.core.tables import Account, Task, WebhookAttempt, WebhookDelivery
from runner.core.tables.base import as_utc
from runner.core.webhooks.errors import DeliveryInFlight
from runner.core.webhooks.events import DeliveryStatus
from runner.core.webhooks.sender import PostResult
from runner.core.webhooks.wakeup import announce

REDACTED = "[redacted]"
SNIPPET_CHARS = 200


@dataclass(frozen=True)
class Claimed:
    """A delivery leased to one dispatcher for one attempt."""

    id: str
    account_id: str
    event: str
    payload: dict[str, Any]
    attempts: int  # attempts made before this one
    token: str


@dataclass(frozen=True)
class Settlement:
    status: DeliveryStatus
    next_attempt_at: datetime | None = None
    error: str | None = None
    disable_endpoint: bool = False


@dataclass(frozen=True)
class DeliveryPage:
    deliveries: list[WebhookDelivery]
    attempts: dict[str, list[WebhookAttempt]]
    next_cursor: str | None


class DeliveryStore:
    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    # -- dispatching ----------------------------------------------------------------------

    def claim(self, owner: str, *, now: datetime, lease: timedelta, limit: int) -> list[Claimed]:
        """Lease up to `limit` due deliveries to `owner` (a fresh token per claim)."""
        token = f"{owner}/{uuid.uuid4().hex[:12]}"
        t = WebhookDelivery
        due = sa.and_(
            col(t.status) == DeliveryStatus.PENDING,
            col(t.next_attempt_at) <= now,
            sa.or_(col(t.lease_expires_at).is_(None), col(t.lease_expires_at) <= now),
        )
        oldest = select(t.id).where(due).order_by(col(t.next_attempt_at), col(t.id)).limit(limit)
        lease_them = sa.update(t).values(lease_owner=token, lease_expires_at=now + lease)
        returning = (col(t.id), col(t.account_id), col(t.event), col(t.payload), col(t.attempts))
        if is_sqlite(self._engine):
            # Most polls find nothing due: look first without taking SQLite's write lock.
            with session_scope(self._engine, readonly=True) as session:
                if session.execute(oldest.limit(1)).first() is None:
                    return []
        with session_scope(self._engine) as session:
            if is_sqlite(self._engine):
                # One conditional UPDATE, inside the immediate (write-locked) transaction.
                statement = lease_them.where(col(t.id).in_(oldest), due).returning(*returning)
            else:
                locked = [row[0] for row in session.execute(oldest.with_for_update(skip_locked=True))]
                if not locked:
                    return []
                statement = lease_them.where(col(t.id).in_(locked), due).returning(*returning)
            rows = session.execute(statement).all()
        return [Claimed(r[0], r[1], r[2], r[3], r[4], token) for r in rows]

    def next_due(self) -> datetime | None:
        """When the earliest pending delivery can next be claimed (its attempt time, or the end of
        another dispatcher's lease on it); None when nothing is pending."""
        t = WebhookDelivery
        attempt_at, lease_end = col(t.next_attempt_at), col(t.lease_expires_at)
        ready_at = sa.case(
            (sa.and_(lease_end.is_not(None), lease_end > attempt_at), lease_end), else_=attempt_at
        )
        statement = sa.select(sa.func.min(ready_at)).where(col(t.status) == DeliveryStatus.PENDING)
        with session_scope(self._engine, readonly=True) as session:
            return as_utc(session.execute(statement).scalar())

    def settle(
        self,
        claimed: Claimed,
        settlement: Settlement,
        *,
        now: datetime,
        url: str | None,
        post: PostResult | None,
    ) -> bool:
        """Record the attempt (if one was made) and apply `settlement` if the lease is still held."""
        t = WebhookDelivery
        made_attempt = post is not None
        with session_scope(self._engine) as session:
            if post is not None:
                session.add(_attempt_row(claimed, post, at=now, url=url or ""))
            result = session.execute(
                sa.update(t)
                .where(col(t.id) == claimed.id, col(t.lease_owner) == claimed.token)
                .values(
                    status=settlement.status,
                    attempts=claimed.attempts + (1 if made_attempt else 0),
                    next_attempt_at=settlement.next_attempt_at,
                    lease_owner=None,
                    lease_expires_at=None,
                    last_error=settlement.error,
                    delivered_at=now if settlement.status is DeliveryStatus.DELIVERED else None,
                )
            )
            held = rowcount(result) == 1
            if held and settlement.disable_endpoint and url:
                session.execute(
                    sa.update(Account)
                    .where(col(Account.id) == claimed.account_id, col(Account.webhook_url) == url)
                    .values(webhook_disabled_at=now, updated_at=now)
                )
        return held

    def account(self, account_id: str) -> Account | None:
        with session_scope(self._engine, readonly=True) as session:
            return session.get(Account, account_id)

    # -- the log ----------------------------------------------------------------------------

    def page(
        self,
        account_id: str,
        *,
        task_id: str | int | None = None,
        status: DeliveryStatus | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> DeliveryPage:
        """The account's deliveries, newest first; `task_id` (the task's integer id or UUID) keeps
        one task's."""
        t = WebhookDelivery
        statement = select(t).where(t.account_id == account_id)
        if task_id is not None:
            task = select(Task.id).where(refs.matching(Task.public_id, Task.id, task_id))
            statement = statement.where(col(t.task_id).in_(task))
        if status is not None:
            statement = statement.where(t.status == status)
        statement = cursors.newest_first(
            statement, created=col(t.created_at), key=col(t.id), cursor=cursor, limit=limit
        )
        with session_scope(self._engine, readonly=True) as session:
            page, next_cursor = cursors.split(list(session.exec(statement).all()), limit)
            attempts = self._attempts(session, [d.id for d in page])
        return DeliveryPage(page, attempts, next_cursor)

    def get(self, account_id: str, delivery_id: str) -> tuple[WebhookDelivery, list[WebhookAttempt]]:
        with session_scope(self._engine, readonly=True) as session:
            delivery = _owned(session, account_id, delivery_id)
            return delivery, self._attempts(session, [delivery.id])[delivery.id]

    @staticmethod
    def _attempts(session: Session, ids: list[str]) -> dict[str, list[WebhookAttempt]]:
        found: dict[str, list[WebhookAttempt]] = {i: [] for i in ids}
        if ids:
            statement = (
                select(WebhookAttempt)
                .where(col(WebhookAttempt.delivery_id).in_(ids))
                .order_by(col(WebhookAttempt.at), col(WebhookAttempt.id))
            )
            for attempt in session.exec(statement).all():
                found[attempt.delivery_id].append(attempt)
        return found

    # -- operator actions -------------------------------------------------------------------

    def owner(self, delivery_id: str) -> str:
        with session_scope(self._engine, readonly=True) as session:
            delivery = session.get(WebhookDelivery, delivery_id)
        if delivery is None:
            raise NotFound(f"No webhook delivery with id {delivery_id!r}.", delivery_id=delivery_id)
        return delivery.account_id

    def redeliver(self, account_id: str, delivery_id: str, *, now: datetime) -> WebhookDelivery:
        """Send a delivery again from the first attempt, with the same `webhook-id`."""
        with session_scope(self._engine) as session:
            delivery = _owned(session, account_id, delivery_id, for_update=True)
            lease_until = as_utc(delivery.lease_expires_at)
            if delivery.lease_owner and lease_until is not None and lease_until > now:
                raise DeliveryInFlight(
                    "This delivery is being sent right now; look at its attempts in a few seconds.",
                    delivery_id=delivery_id,
                )
            delivery.status = DeliveryStatus.PENDING
            delivery.attempts = 0
            delivery.next_attempt_at = now
            delivery.lease_owner = None
            delivery.lease_expires_at = None
            delivery.last_error = None
            delivery.delivered_at = None
            session.add(delivery)
            announce(session)
        return delivery

    def sent_since(self, account_id: str, event: str, since: datetime) -> list[datetime]:
        """When the account's deliveries of `event` created after `since` were created."""
        t = WebhookDelivery
        statement = select(t.created_at).where(
            t.account_id == account_id, t.event == event, col(t.created_at) > since
        )
        with session_scope(self._engine, readonly=True) as session:
            return [created for created in (as_utc(c) for c in session.exec(statement).all()) if created]

    def record_sent(self, delivery: WebhookDelivery, post: PostResult, *, url: str, now: datetime) -> None:
        """Store a delivery that was sent once, outside the queue (the test event)."""
        delivery.attempts = 1
        delivery.status = DeliveryStatus.DELIVERED if post.ok else DeliveryStatus.FAILED
        delivery.last_error = post.error
        delivery.delivered_at = now if post.ok else None
        claimed = Claimed(delivery.id, delivery.account_id, delivery.event, delivery.payload, 0, "")
        with session_scope(self._engine) as session:
            session.add(delivery)
            session.flush()
            session.add(_attempt_row(claimed, post, at=now, url=url))


def _owned(
    session: Session, account_id: str, delivery_id: str, *, for_update: bool = False
) -> WebhookDelivery:
    statement = select(WebhookDelivery).where(
        WebhookDelivery.id == delivery_id, WebhookDelivery.account_id == account_id
    )
    if for_update:
        statement = statement.with_for_update()
    delivery = session.exec(statement).first()
    if delivery is None:
        raise NotFound("No webhook delivery with this id.", delivery_id=delivery_id)
    return delivery


def _attempt_row(claimed: Claimed, post: PostResult, *, at: datetime, url: str) -> WebhookAttempt:
    return WebhookAttempt(
        delivery_id=claimed.id,
        at=at,
        url=url[:2000],
        status_code=post.status_code,
        latency_ms=post.latency_ms,
        error=post.error,
        response_snippet=(redact(post.snippet, claimed.payload) or "")[:SNIPPET_CHARS] or None,
    )


def redact(snippet: str | None, payload: dict[str, Any]) -> str | None:
    """The snippet without any value of the payload's task (a receiver may echo the body back)."""
    if not snippet:
        return snippet
    values = sorted({v for v in _leaves(payload.get("data")) if len(v) >= 4}, key=len, reverse=True)
    for value in values:
        snippet = snippet.replace(value, REDACTED)
    return snippet


def _leaves(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    elif isinstance(value, str | int | float) and not isinstance(value, bool):
        yield str(value)
