"""Follow-ups on both payers (issue 13): a pended authorization is followed by a status check task
that waits `pending` between checks (no lease, no browser context), and completes once the mock's
clock passes the payer's decision; parent and follow-up each send one webhook, the follow-up's
naming its parent."""

from __future__ import annotations

from sqlmodel import select

from runner.core.db import session_scope
from runner.core.tables import Task, WebhookDelivery
from tests.e2e.handlers import task_data
from tests.e2e.handlers.conftest import Clinic


def webhooks_of(clinic: Clinic, task: Task) -> list[WebhookDelivery]:
    with session_scope(clinic.system.engine, readonly=True) as session:
        statement = select(WebhookDelivery).where(
            WebhookDelivery.task_id == task.id, WebhookDelivery.event == "task_finished"
        )
        return list(session.exec(statement).all())


def test_a_pended_authorization_is_decided_by_its_follow_up(clinic: Clinic, payer: str) -> None:
    clinic.add_login(payer)
    clinic.portal.set_knobs(pended_polls=100, pended_minutes=30)
    parent = clinic.create(
        "submit_prior_authorization", task_data.authorization(payer, task_data.AUTH_PENDED)
    )
    clinic.run()
    pended = clinic.get(parent.id)
    assert pended.status == "completed_with_issues", pended.notes
    child_id = (pended.result or {})["follow_up_task_id"]
    with session_scope(clinic.system.engine, readonly=True) as session:
        child = session.exec(select(Task).where(Task.public_id == child_id)).one()
    assert child.status == "pending" and child.parent_task_id == parent.id
    assert child.lease_owner is None and child.attempts == 0
    clinic.run()  # not due for 6 hours: nothing runs, nothing is held
    assert clinic.get(child.id).status == "pending" and clinic.browser.in_use == 0
    assert clinic.system.queue.next_due_in() not in (None, 0.0)

    clinic.portal.advance_clock(31 * 60)  # past the payer's decision
    clinic.system.follow_ups.check_now(clinic.account.id, parent.public_id, actor="test")
    clinic.run()
    done = clinic.get(child.id)
    assert done.status == "completed", done.notes
    assert (done.result or {})["decision"] == "approved"
    [parent_hook] = webhooks_of(clinic, pended)
    [child_hook] = webhooks_of(clinic, done)
    assert parent_hook.payload["data"]["result"]["follow_up_task_id"] == child_id
    assert child_hook.payload["data"]["parent_task_id"] == parent.public_id
    assert child_hook.payload["data"]["result"]["decision"] == "approved"
