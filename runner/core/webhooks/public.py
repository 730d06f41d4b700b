"""Deliveries as clients see them (the API and `sopwright webhooks list --json`)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from runner.core.public import iso_z
from runner.core.tables import WebhookAttempt, WebhookDelivery
from runner.core.webhooks.sender import PostResult


class WebhookAttemptPublic(BaseModel):
    at: str
    url: str
    status_code: int | None = Field(description="None when no HTTP response came back.")
    latency_ms: int | None
    error: str | None
    response_snippet: str | None = Field(description="The start of the response body, task values redacted.")


class DeliveryPublic(BaseModel):
    id: str = Field(description="Also the `webhook-id` header: stable across retries and redeliveries.")
    event: str
    task_id: int | None = Field(description="The task's `id`; none for an account event.")
    status: str = Field(description="pending, delivered, failed or skipped.")
    attempts: int = Field(description="Attempts since the delivery was (re)queued; the log keeps them all.")
    next_attempt_at: str | None
    last_error: str | None
    created_at: str
    delivered_at: str | None
    attempt_log: list[WebhookAttemptPublic]


class DeliveryList(BaseModel):
    data: list[DeliveryPublic]
    next_cursor: str | None = Field(description="Pass as `cursor` to get the next (older) page.")


class WebhookTestResult(BaseModel):
    ok: bool = Field(description="True if the endpoint answered 2xx.")
    status_code: int | None
    latency_ms: int
    error: str | None
    endpoint_disabled: bool = Field(description="The endpoint is disabled (it answered 410 earlier).")
    delivery: DeliveryPublic


def attempt_public(attempt: WebhookAttempt) -> WebhookAttemptPublic:
    return WebhookAttemptPublic(
        at=iso_z(attempt.at) or "",
        url=attempt.url,
        status_code=attempt.status_code,
        latency_ms=attempt.latency_ms,
        error=attempt.error,
        response_snippet=attempt.response_snippet,
    )


def delivery_public(delivery: WebhookDelivery, attempts: list[WebhookAttempt]) -> DeliveryPublic:
    return DeliveryPublic(
        id=delivery.id,
        event=delivery.event,
        task_id=delivery.task_public_id,
        status=delivery.status,
        attempts=delivery.attempts,
        next_attempt_at=iso_z(delivery.next_attempt_at),
        last_error=delivery.last_error,
        created_at=iso_z(delivery.created_at) or "",
        delivered_at=iso_z(delivery.delivered_at),
        attempt_log=[attempt_public(a) for a in attempts],
    )


def webhook_test_result(
    delivery: WebhookDelivery, attempts: list[WebhookAttempt], post: PostResult, *, endpoint_disabled: bool
) -> WebhookTestResult:
    return WebhookTestResult(
        ok=post.ok,
        status_code=post.status_code,
        latency_ms=post.latency_ms,
        error=post.error,
        endpoint_disabled=endpoint_disabled,
        delivery=delivery_public(delivery, attempts),
    )
