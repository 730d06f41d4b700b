"""What the API and CLI call: the delivery log, redelivery, the test event, subscriptions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from runner.core.accounts import Accounts
from runner.core.db import session_scope
from runner.core.destinations import AddressGuard
from runner.core.errors import InvalidRequest, NotFound
from runner.core.tables import Account, WebhookAttempt, WebhookDelivery, utcnow
from runner.core.tables.base import new_id
from runner.core.webhooks import listener, signing, watcher
from runner.core.webhooks.clock import Clock
from runner.core.webhooks.dispatcher import Dispatcher, Listen
from runner.core.webhooks.errors import EndpointDisabled, NoWebhookUrl
from runner.core.webhooks.events import OPTIONAL_EVENTS, DeliveryStatus, WebhookEvent
from runner.core.webhooks.outbox import envelope
from runner.core.webhooks.schedule import RetrySchedule
from runner.core.webhooks.sender import PostResult, Sender
from runner.core.webhooks.store import DeliveryPage, DeliveryStore
from runner.core.webhooks.wakeup import Wakeup

# Whether any delivery is pending (the commit watcher's question before it wakes a dispatcher):
# the status column leads the index `ix_webhook_deliveries_due`, so this is an index look.
# (tests/unit/webhooks/test_watcher.py runs it against the real table.)
PENDING_PROBE = "SELECT 1 FROM webhook_deliveries WHERE status = 'pending' LIMIT 1"


@dataclass(frozen=True)
class SentTestEvent:
    delivery: WebhookDelivery
    post: PostResult
    endpoint_disabled: bool


class Webhooks:
    def __init__(
        self,
        engine: sa.Engine,
        accounts: Accounts,
        guard: AddressGuard,
        *,
        timeout: float = 15.0,
        clock: Clock = utcnow,
        schedule: RetrySchedule | None = None,
        wakeup: Wakeup | None = None,
    ) -> None:
        self._engine = engine
        self._accounts = accounts
        self.guard = guard
        self.store = DeliveryStore(engine)
        self.sender = Sender(guard, timeout=timeout)
        # Rung after a commit that makes a delivery due (system.py installs it on the engine).
        self.wakeup = wakeup or Wakeup()
        self._timeout = timeout
        self._clock = clock
        self._schedule = schedule

    def dispatcher(
        self,
        *,
        name: str | None = None,
        batch: int = 8,
        poll_interval: float = 1.0,
        watch_interval: float = 0.05,
    ) -> Dispatcher:
        """A new dispatcher over this database (start as many as you like, anywhere).

        On SQLite it looks for other processes' commits every `watch_interval` seconds when
        running (watcher.py; 0: it only polls)."""
        return Dispatcher(
            self.store,
            self.sender,
            self._accounts,
            schedule=self._schedule,
            clock=self._clock,
            name=name,
            batch=batch,
            # Longer than the slowest attempt (connect, write and read may each take `timeout`).
            lease=timedelta(seconds=max(60.0, 4 * self._timeout)),
            poll_interval=poll_interval,
            wakeup=self.wakeup,
            listen=self._listen(watch_interval),
        )

    def _listen(self, watch_interval: float) -> Listen | None:
        """How a running dispatcher hears of other processes' deliveries: LISTEN on PostgreSQL,
        a commit watcher on a SQLite file."""
        if self._engine.dialect.name == "postgresql":
            connect = listener.connector(self._engine)
            return lambda on_notify: listener.Listener(connect, on_notify, ignore=self.wakeup.token)
        watch = watcher.connector(self._engine)
        if watch is None or watch_interval <= 0:
            return None
        return lambda on_change: watcher.CommitWatcher(
            watch, on_change, interval=watch_interval, probe=PENDING_PROBE
        )

    def deliveries(
        self,
        account_id: str,
        *,
        task_id: str | int | None = None,
        status: DeliveryStatus | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> DeliveryPage:
        return self.store.page(account_id, task_id=task_id, status=status, limit=limit, cursor=cursor)

    def get(self, account_id: str, delivery_id: str) -> tuple[WebhookDelivery, list[WebhookAttempt]]:
        return self.store.get(account_id, delivery_id)

    def owner(self, delivery_id: str) -> str:
        """The account a delivery belongs to (for operator commands that name only the delivery)."""
        return self.store.owner(delivery_id)

    def redeliver(self, account_id: str, delivery_id: str) -> WebhookDelivery:
        account = self._account(account_id)
        if not account.webhook_url:
            raise NoWebhookUrl("The account has no webhook URL: set one, then redeliver.")
        if account.webhook_disabled_at is not None:
            raise EndpointDisabled(
                "The endpoint is disabled since it answered 410 Gone: set the webhook URL again "
                "(`sopwright accounts set-webhook`), then redeliver."
            )
        return self.store.redeliver(account_id, delivery_id, now=self._clock())

    def send_test(self, account_id: str, *, timeout: float | None = None) -> SentTestEvent:
        """POST a signed `webhook_test` event now, once, and log it like any delivery.

        `timeout` (seconds) replaces the dispatcher's for this one POST (see `tester.py`)."""
        account = self._account(account_id)
        if not account.webhook_url:
            raise NoWebhookUrl("The account has no webhook URL to test: set one first.")
        now = self._clock()
        delivery = WebhookDelivery(
            id=new_id(),
            account_id=account.id,
            event=WebhookEvent.WEBHOOK_TEST,
            created_at=now,
            payload=envelope(
                WebhookEvent.WEBHOOK_TEST,
                now,
                {
                    "accountId": account.public_id,
                    "message": "A test event from sopwright: your endpoint works.",
                },
            ),
        )
        secrets = self._accounts.webhook_secrets(account, now)
        body = signing.signed_body(delivery.payload, secrets)
        sender = self.sender if timeout is None else Sender(self.guard, timeout=timeout)
        post = sender.post(account.webhook_url, signing.headers(delivery.id, now, body, secrets), body)
        self.store.record_sent(delivery, post, url=account.webhook_url, now=now)
        return SentTestEvent(delivery, post, endpoint_disabled=account.webhook_disabled_at is not None)

    def set_events(self, account_id: str, events: Iterable[str]) -> list[str]:
        """Subscribe the account to optional events (task_finished is always sent)."""
        chosen: list[str] = []
        for name in events:
            if name == WebhookEvent.TASK_FINISHED.value:
                continue
            if name not in {e.value for e in OPTIONAL_EVENTS}:
                allowed = ", ".join(sorted(e.value for e in OPTIONAL_EVENTS))
                raise InvalidRequest(
                    f"Unknown webhook event {name!r}; optional events: {allowed}.", event=name
                )
            if name not in chosen:
                chosen.append(name)
        with session_scope(self._engine) as session:
            account = session.get(Account, account_id)
            if account is None:
                raise NotFound("No such account.")
            account.webhook_events = chosen
            account.updated_at = self._clock()
            session.add(account)
        return chosen

    def rotate_secret(self, account_id: str, *, overlap: timedelta) -> str:
        return self._accounts.rotate_webhook_secret(account_id, overlap=overlap, now=self._clock())

    def _account(self, account_id: str) -> Account:
        account = self.store.account(account_id)
        if account is None:
            raise NotFound("No such account.")
        return account
