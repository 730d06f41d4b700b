"""Webhook endpoints: the delivery log, redelivery and a test event, scoped to the calling account."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from runner.api.deps import AccountDep, SystemDep
from runner.api.schemas import ERROR_RESPONSES
from runner.core.webhooks.events import DeliveryStatus
from runner.core.webhooks.public import (
    DeliveryList,
    DeliveryPublic,
    WebhookTestResult,
    delivery_public,
    webhook_test_result,
)

router = APIRouter(prefix="/webhooks", tags=["webhooks"], responses=ERROR_RESPONSES)


@router.get("/deliveries", response_model=DeliveryList, summary="List webhook deliveries, newest first")
def list_deliveries(
    system: SystemDep,
    account: AccountDep,
    task_id: Annotated[
        str | None, Query(description="Only this task's deliveries: its `id` (or its older UUID).")
    ] = None,
    status: DeliveryStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: str | None = None,
) -> DeliveryList:
    page = system.webhooks.deliveries(account.id, task_id=task_id, status=status, limit=limit, cursor=cursor)
    return DeliveryList(
        data=[delivery_public(d, page.attempts[d.id]) for d in page.deliveries], next_cursor=page.next_cursor
    )


@router.get(
    "/deliveries/{delivery_id}", response_model=DeliveryPublic, summary="Get a delivery and its attempts"
)
def get_delivery(delivery_id: str, system: SystemDep, account: AccountDep) -> DeliveryPublic:
    return delivery_public(*system.webhooks.get(account.id, delivery_id))


@router.post(
    "/deliveries/{delivery_id}/redeliver",
    response_model=DeliveryPublic,
    summary="Send a delivery again (same webhook-id), from the first attempt of the schedule",
)
def redeliver(delivery_id: str, system: SystemDep, account: AccountDep) -> DeliveryPublic:
    system.webhooks.redeliver(account.id, delivery_id)
    return delivery_public(*system.webhooks.get(account.id, delivery_id))


@router.post(
    "/test", response_model=WebhookTestResult, summary="Send a signed test event now and report the result"
)
async def send_test(system: SystemDep, account: AccountDep) -> WebhookTestResult:
    # Off the request thread pool, with a short timeout and a per-account limit (tester.py).
    tested = await system.webhook_tester.send(account.id)
    return webhook_test_result(
        tested.delivery, tested.attempts, tested.sent.post, endpoint_disabled=tested.sent.endpoint_disabled
    )
