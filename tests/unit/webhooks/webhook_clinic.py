"""A test account with a webhook URL, driving its tasks to final states through `move`."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import col, select

from runner.core.db import session_scope
from runner.core.states import TaskStatus
from runner.core.system import System
from runner.core.tables import Account, Task, WebhookAttempt, WebhookDelivery, utcnow
from runner.core.transitions import move
from runner.core.webhooks.clock import Clock


class Clinic:
    """An account with a webhook URL, and a way to drive its tasks to a status."""

    def __init__(self, system: System, name: str, url: str | None, clock: Clock = utcnow) -> None:
        created = system.accounts.create(name, webhook_url=url)
        self.system = system
        self.clock = clock
        self.id = created.account.id
        self.public_id = created.account.public_id  # the `accountId` clients see
        self.api_key = created.api_key
        self.secret = created.webhook_secret

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    def task(self, status: TaskStatus = TaskStatus.RUNNING) -> str:
        """A task inserted directly at `status` (the worker is not needed to reach final states)."""
        with session_scope(self.system.engine) as session:
            number = session.execute(
                sa.update(Account)
                .where(col(Account.id) == self.id)
                .values(task_counter=Account.task_counter + 1)
                .returning(col(Account.task_counter))
            ).scalar_one()
            task = Task(
                account_id=self.id,
                task_number=number,
                type="check_eligibility",
                status=status.value,
                handler="check_eligibility_1",
                title=f"Check eligibility #{number}",
                instructions="SOP: check.",
                fields={"member_id": "MBR77123", "first_name": "Jane"},
                sop_version=1,
            )
            session.add(task)
        return task.id

    def finish(self, task_id: str, status: TaskStatus = TaskStatus.COMPLETED, **changes: object) -> None:
        with session_scope(self.system.engine) as session:
            task = session.get(Task, task_id)
            assert task is not None
            move(session, task, status, actor="test", action="finish", now=self.clock())
            for name, value in changes.items():
                setattr(task, name, value)

    def deliveries(self) -> list[WebhookDelivery]:
        with session_scope(self.system.engine, readonly=True) as session:
            statement = select(WebhookDelivery).where(WebhookDelivery.account_id == self.id)
            return list(session.exec(statement.order_by(col(WebhookDelivery.created_at))).all())

    def delivery(self, delivery_id: str) -> WebhookDelivery:
        with session_scope(self.system.engine, readonly=True) as session:
            row = session.get(WebhookDelivery, delivery_id)
        assert row is not None
        return row

    def public_task_id(self, task_id: str) -> int:
        """The `id` clients see of the task with this UUID."""
        with session_scope(self.system.engine, readonly=True) as session:
            task = session.get(Task, task_id)
        assert task is not None
        return task.public_id

    def task_status(self, task_id: str) -> str:
        with session_scope(self.system.engine, readonly=True) as session:
            task = session.get(Task, task_id)
        assert task is not None
        return task.status

    def attempts(self, delivery_id: str) -> list[WebhookAttempt]:
        with session_scope(self.system.engine, readonly=True) as session:
            statement = select(WebhookAttempt).where(WebhookAttempt.delivery_id == delivery_id)
            return list(session.exec(statement.order_by(col(WebhookAttempt.id))).all())
