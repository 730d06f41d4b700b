"""The outbox: delivery rows written in the transaction that changes a task's status.

`move` (transitions.py) calls `on_transition`; the row commits or rolls back with the status, so
there is no final task without its `task_finished` row and no row without a final task. The
`data` snapshot is (re)taken just before commit, so fields the caller sets after `move` in the
same transaction (result, notes) are in it: it is the task exactly as GET /tasks/{id} returns it.

An account without a webhook URL still gets the row, marked `skipped` at once: the event is
visible in the delivery log and can be redelivered once a URL is configured.

A due row is announced (wakeup.py): dispatchers are woken when the transaction commits, not at
their next poll.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlmodel import Session, select

from runner.core.public import TaskPublic, iso_z, task_json
from runner.core.states import TaskStatus
from runner.core.tables import Account, Task, TaskFile, WebhookDelivery
from runner.core.webhooks.events import OPTIONAL_EVENT_FOR_STATUS, TASK_EVENTS, DeliveryStatus, WebhookEvent
from runner.core.webhooks.wakeup import announce

_PENDING_SNAPSHOTS = "sopwright.webhooks.snapshots"
_TASK_KEYS = [field.serialization_alias or name for name, field in TaskPublic.model_fields.items()]
NO_URL = "No webhook URL is configured for this account."


def event_for(session: Session, task: Task, current: TaskStatus, target: TaskStatus) -> WebhookEvent | None:
    """The event a move from `current` to `target` emits, if any."""
    if target.is_final:
        return WebhookEvent.TASK_FINISHED
    optional = OPTIONAL_EVENT_FOR_STATUS.get(target)
    if optional is None or current is target:
        return None
    account = session.get(Account, task.account_id)
    if account is None or optional not in account.webhook_events:
        return None
    return optional


def on_transition(
    session: Session, task: Task, current: TaskStatus, target: TaskStatus, now: datetime
) -> None:
    """Add the delivery row for this move (if it emits an event) to the caller's transaction."""
    kind = event_for(session, task, current, target)
    if kind is None:
        return
    account = session.get(Account, task.account_id)
    has_url = account is not None and bool(account.webhook_url)
    if task.public_id is None:
        session.flush()  # a task not inserted yet: its public id is drawn at insert
    delivery = WebhookDelivery(
        account_id=task.account_id,
        task_id=task.id,
        task_public_id=task.public_id,
        event=kind,
        status=DeliveryStatus.PENDING if has_url else DeliveryStatus.SKIPPED,
        next_attempt_at=now if has_url else None,
        last_error=None if has_url else NO_URL,
        created_at=now,
    )
    delivery.payload = envelope(kind, now, task_json(task, _files(session, task)))
    session.add(delivery)
    pending: list[tuple[WebhookDelivery, Task]] | None = session.info.get(_PENDING_SNAPSHOTS)
    if pending is None:
        pending = session.info[_PENDING_SNAPSHOTS] = []
        event.listen(session, "before_commit", _refresh_snapshots)
        event.listen(session, "after_rollback", _forget_snapshots)
    pending.append((delivery, task))
    if has_url:
        announce(session)  # dispatchers wake when this commits (wakeup.py)


def account_event(
    session: Session, account: Account, kind: WebhookEvent, data: dict[str, Any], now: datetime
) -> WebhookDelivery:
    """Add the delivery row of an event about the account rather than one task (`portal_down`)."""
    has_url = bool(account.webhook_url)
    delivery = WebhookDelivery(
        account_id=account.id,
        event=kind,
        status=DeliveryStatus.PENDING if has_url else DeliveryStatus.SKIPPED,
        next_attempt_at=now if has_url else None,
        last_error=None if has_url else NO_URL,
        created_at=now,
    )
    delivery.payload = envelope(kind, now, data)
    session.add(delivery)
    if has_url:
        announce(session)
    return delivery


def envelope(kind: WebhookEvent, at: datetime, data: dict[str, Any]) -> dict[str, Any]:
    """The stored payload: the Serene envelope without `signature` (added, signed, at send time)."""
    return {"event": kind.value, "created_at": iso_z(at), "data": data}


def in_task_order(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload with `data` in GET /tasks/{id}'s key order (PostgreSQL's JSONB reorders keys)."""
    data = payload.get("data")
    if payload.get("event") not in TASK_EVENTS or not isinstance(data, dict):
        return payload
    ordered = {key: data[key] for key in _TASK_KEYS if key in data}
    ordered.update((key, value) for key, value in data.items() if key not in ordered)
    return {**payload, "data": ordered}


def _files(session: Session, task: Task) -> list[TaskFile]:
    return list(session.exec(select(TaskFile).where(TaskFile.task_id == task.id)).all())


def _refresh_snapshots(session: Session) -> None:
    pending = session.info.pop(_PENDING_SNAPSHOTS, [])
    if any(task.public_id is None for _delivery, task in pending):
        session.flush()  # draws the public ids the snapshots show
    for delivery, task in pending:
        data = task_json(task, _files(session, task))
        if data != delivery.payload.get("data"):
            delivery.payload = {**delivery.payload, "data": data}
            session.add(delivery)
    session.info[_PENDING_SNAPSHOTS] = []


def _forget_snapshots(session: Session) -> None:
    session.info[_PENDING_SNAPSHOTS] = []
