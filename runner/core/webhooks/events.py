"""Webhook event names and delivery statuses (typed, never bare strings between layers)."""

from __future__ import annotations

from enum import StrEnum

from runner.core.states import TaskStatus


class WebhookEvent(StrEnum):
    TASK_FINISHED = "task_finished"  # always on: the Serene event, one per task
    TASK_WAITING_FOR_INPUT = "task_waiting_for_input"  # opt-in (Account.webhook_events)
    TASK_PENDING_REVIEW = "task_pending_review"  # opt-in
    PORTAL_DOWN = "portal_down"  # opt-in: a portal of the account's logins is down (not a task's)
    WEBHOOK_TEST = "webhook_test"  # sent by `POST /webhooks/test`, never retried
    BATCH_FINISHED = "batch_finished"  # always on: every task of a batch is final
    SCHEDULE_FAILED = "schedule_failed"  # always on: a schedule's firing could not read its source


# Events whose `data` is a task (the others carry a batch, a schedule or a message).
TASK_EVENTS = frozenset(
    {WebhookEvent.TASK_FINISHED, WebhookEvent.TASK_WAITING_FOR_INPUT, WebhookEvent.TASK_PENDING_REVIEW}
)


# The events an account may subscribe to on top of task_finished.
OPTIONAL_EVENTS = frozenset(
    {WebhookEvent.TASK_WAITING_FOR_INPUT, WebhookEvent.TASK_PENDING_REVIEW, WebhookEvent.PORTAL_DOWN}
)

OPTIONAL_EVENT_FOR_STATUS: dict[TaskStatus, WebhookEvent] = {
    TaskStatus.WAITING_FOR_INPUT: WebhookEvent.TASK_WAITING_FOR_INPUT,
    TaskStatus.PENDING_REVIEW: WebhookEvent.TASK_PENDING_REVIEW,
}


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # due at next_attempt_at (leased while a dispatcher sends it)
    DELIVERED = "delivered"  # the endpoint answered 2xx
    FAILED = "failed"  # every attempt failed, or the endpoint answered 410 Gone
    SKIPPED = "skipped"  # nowhere to send: no webhook URL, or the endpoint is disabled
