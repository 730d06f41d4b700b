"""Follow-ups (issue 13, DESIGN.md §9) on a scripted portal and a fake browser: the child is created
in the transaction that finishes its parent, waits `pending` between checks without a lease or a
browser, goes back to the queue without spending an attempt while the payer has not decided, ends
with issues at the end of `for:`, and ends by its SOP when the payer decides; one webhook per final
state, naming each other; the account's switch; POST /tasks/{id}/follow-up."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, select

from handlers.errors import Transient
from handlers.fake import Action, FakePortal, Pending
from runner.core.db import session_scope
from runner.core.defaults import validate_defaults
from runner.core.errors import InvalidRequest
from runner.core.fake_browser import FakeBrowser
from runner.core.followups import Schedule
from runner.core.public import iso_z
from runner.core.settings import Settings
from runner.core.system import System
from runner.core.tables import Account, Task, Trajectory, WebhookDelivery, utcnow
from runner.core.tables.base import as_utc
from sops.types import Outcome, TaskType
from tests.support.task_fixtures import task_fixture
from tests.unit.runner.scripted import account_with_login, claim, make_due, reload, run_worker

SLOW: Action = Transient("The portal did not answer in time.")
PENDED: Action = Pending({"decision": "pended", "decision_code": "A4", "reference_number": "FKR77"})


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"trace": "off", "poll_scale": 0.0})


def steps(system: System, *types: TaskType) -> list[str]:
    return sorted({s.do for t in types for s in system.sops.library.get(t).steps})


def last_step(system: System, task_type: TaskType) -> str:
    return system.sops.library.get(task_type).steps[-1].do


def authorization(system: System, account: Account) -> Task:
    data = task_fixture("submit_prior_authorization").replace("payer: Acme Health", "payer: fake")
    task = system.tasks.create(account, type="submit_prior_authorization", data=data, actor="test")
    assert task.status == "pending", task.notes
    return task


def pended_authorization(system: System, account: Account) -> tuple[Task, Task]:
    """A prior authorization the payer pends: the parent, final, and its follow-up."""
    parent = authorization(system, account)
    run_worker(system, FakePortal(script={"poll_decision": [PENDED]}), steps=auth_steps(system))
    done = reload(system, parent.id)
    return done, child_of(system, done)


def auth_steps(system: System) -> list[str]:
    return steps(system, TaskType.SUBMIT_PRIOR_AUTHORIZATION, TaskType.CHECK_AUTHORIZATION_STATUS)


def child_of(system: System, parent: Task) -> Task:
    with session_scope(system.engine, readonly=True) as session:
        children = session.exec(select(Task).where(Task.parent_task_id == parent.id)).all()
    assert len(children) == 1, [c.public_id for c in children]
    return children[0]


def finished_webhooks(system: System, task: Task) -> list[WebhookDelivery]:
    with session_scope(system.engine, readonly=True) as session:
        rows = session.exec(
            select(WebhookDelivery)
            .where(WebhookDelivery.task_id == task.id, WebhookDelivery.event == "task_finished")
            .order_by(col(WebhookDelivery.created_at))
        ).all()
    return list(rows)


def check(system: System, task_type: TaskType, answer: Action, *, browser: FakeBrowser | None = None) -> None:
    """One worker pass in which the status check reads `answer` from the portal."""
    portal = FakePortal(script={last_step(system, task_type): [answer]})
    run_worker(system, portal, steps=steps(system, task_type), browser=browser)


def test_only_errors_in_a_row_fail_a_follow_up(system: System) -> None:
    """A check that reached the payer clears the errors before it: a follow-up that runs for
    weeks is failed by a portal down for max_attempts (3) checks in a row, not by three errors
    spread over its fortnight."""
    account = account_with_login(system)
    _parent, child = pended_authorization(system, account)
    still_pended = {"decision": "pended", "reference_number": "FKR77"}
    for answer in (SLOW, SLOW, still_pended, SLOW, SLOW):
        make_due(system, child.id)
        check(system, TaskType.CHECK_AUTHORIZATION_STATUS, answer)
        waiting = reload(system, child.id)
        assert waiting.status == "pending", waiting.notes
    assert waiting.attempts == 2
    make_due(system, child.id)
    check(system, TaskType.CHECK_AUTHORIZATION_STATUS, SLOW)  # the third error in a row
    assert reload(system, child.id).status == "failed"


def test_a_pended_authorization_creates_its_follow_up_in_the_same_transaction(system: System) -> None:
    account = account_with_login(system)
    browser = FakeBrowser()
    parent = authorization(system, account)
    run_worker(
        system, FakePortal(script={"poll_decision": [PENDED]}), steps=auth_steps(system), browser=browser
    )
    done = reload(system, parent.id)
    assert (
        done.status == "completed_with_issues"
        and done.notes == "Prior authorization pended (reference FKR77)."
    )
    child = child_of(system, done)
    assert (done.result or {})["follow_up_task_id"] == child.public_id
    assert child.type == TaskType.CHECK_AUTHORIZATION_STATUS and child.status == "pending", child.notes
    assert child.account_id == done.account_id and child.payer == done.payer == "fake"
    assert child.parent_task_id == done.id and child.parent_public_id == done.public_id
    assert (
        child.fields["reference_number"] == "FKR77" and child.fields["member_id"] == done.fields["member_id"]
    )
    # One `now`: the parent's final write and the child's insert are one transaction.
    assert done.completed_at is not None and child.created_at == done.completed_at
    assert child.run_after == done.completed_at + timedelta(hours=6)
    assert child.attempts == 0 and child.lease_owner is None and child.lease_expires_at is None
    [webhook] = finished_webhooks(system, done)  # written in that transaction, snapshot at its commit
    assert webhook.payload["data"]["result"]["follow_up_task_id"] == child.public_id
    assert webhook.payload["data"]["parent_task_id"] is None
    assert finished_webhooks(system, child) == []
    # Between checks the follow-up holds nothing: the next pass opens no browser context for it.
    opened = len(browser.opened)
    check(system, TaskType.CHECK_AUTHORIZATION_STATUS, {"decision": "approved"}, browser=browser)
    assert len(browser.opened) == opened and browser.in_use == 0
    assert reload(system, child.id).status == "pending"


def test_still_pended_goes_back_to_the_queue_without_spending_an_attempt(system: System) -> None:
    account = account_with_login(system)
    _parent, child = pended_authorization(system, account)
    for round in (1, 2, 3, 4):  # more checks than the SOP's max_attempts (3)
        make_due(system, child.id)
        check(
            system, TaskType.CHECK_AUTHORIZATION_STATUS, {"decision": "pended", "reference_number": "FKR77"}
        )
        waiting = reload(system, child.id)
        assert waiting.status == "pending", waiting.notes
        assert waiting.attempts == 0 and waiting.lease_owner is None
        assert waiting.run_after is not None and waiting.run_after - waiting.updated_at == timedelta(hours=6)
        assert waiting.notes == (
            f"Checked {iso_z(waiting.updated_at)}: pended so far. Next check {iso_z(waiting.run_after)}; "
            f"followed until {iso_z(Schedule.from_json(waiting.follow_up or {}).deadline)}."
        )
        assert (waiting.follow_up or {})["checks"] == round
    with session_scope(system.engine, readonly=True) as session:
        attempts = session.exec(select(Trajectory).where(Trajectory.task_id == child.id)).all()
    assert sorted(t.outcome or "" for t in attempts) == ["pending"] * 4  # each check is an attempt
    assert finished_webhooks(system, child) == []


def test_the_decision_ends_the_follow_up_and_its_webhook_names_the_parent(system: System) -> None:
    account = account_with_login(system)
    parent, child = pended_authorization(system, account)
    make_due(system, child.id)
    check(system, TaskType.CHECK_AUTHORIZATION_STATUS, {"decision": "pended", "reference_number": "FKR77"})
    make_due(system, child.id)
    decided: Action = {"decision": "approved", "decision_code": "A1", "certification_number": "FKC9"}
    check(system, TaskType.CHECK_AUTHORIZATION_STATUS, decided)
    done = reload(system, child.id)
    assert done.status == "completed", done.notes
    assert done.notes is not None and "FKC9" in done.notes  # the child's SOP outcome
    [webhook] = finished_webhooks(system, done)
    data = webhook.payload["data"]
    assert data["parent_task_id"] == parent.public_id and data["status"] == "completed"
    assert data["result"]["decision"] == "approved" and data["result"]["certification_number"] == "FKC9"
    assert len(finished_webhooks(system, parent)) == 1  # the parent's stays its only one


def test_the_follow_up_ends_with_issues_at_the_end_of_for(system: System) -> None:
    account = account_with_login(system)
    _parent, child = pended_authorization(system, account)
    # The last check before the deadline is at the deadline, not past it.
    deadline = utcnow() + timedelta(hours=1)
    set_deadline(system, child, deadline)
    make_due(system, child.id)
    check(system, TaskType.CHECK_AUTHORIZATION_STATUS, {"decision": "pended"})
    waiting = reload(system, child.id)
    assert waiting.status == "pending" and as_utc(waiting.run_after) == deadline
    set_deadline(system, child, utcnow() - timedelta(seconds=1))
    make_due(system, child.id)
    check(system, TaskType.CHECK_AUTHORIZATION_STATUS, {"decision": "pended"})
    done = reload(system, child.id)
    assert done.status == "completed_with_issues"
    assert done.notes == (
        "Still pended after 14 days: the payer has not decided; follow it up with the payer."
    )
    assert (done.result or {})["decision"] == "pended"
    assert len(finished_webhooks(system, done)) == 1


def set_deadline(system: System, task: Task, deadline: datetime) -> None:
    with session_scope(system.engine) as session:
        row = session.get(Task, task.id)
        assert row is not None and row.follow_up is not None
        row.follow_up = {**row.follow_up, "deadline": deadline.isoformat()}
        session.add(row)


def test_a_claim_is_followed_until_finalized(system: System) -> None:
    account = account_with_login(system)
    parent = claim(system, account)
    run_worker(system, FakePortal(script={"capture_claim_number": [{"claim_number": "FK0000000005"}]}))
    done = reload(system, parent.id)
    assert done.status == "completed", done.notes
    child = child_of(system, done)
    assert child.type == TaskType.CHECK_CLAIM_STATUS and child.fields["claim_number"] == "FK0000000005"
    assert done.completed_at is not None and child.run_after == done.completed_at + timedelta(days=3)
    schedule = Schedule.from_json(child.follow_up or {})
    assert schedule.deadline == as_utc(done.completed_at + timedelta(days=45))
    make_due(system, child.id)
    check(system, TaskType.CHECK_CLAIM_STATUS, {"claim_number": "FK0000000005", "status_category": "pending"})
    waiting = reload(system, child.id)
    assert waiting.status == "pending" and waiting.attempts == 0
    assert waiting.run_after is not None and waiting.run_after - waiting.updated_at == timedelta(days=2)
    assert "not finalized (pending) so far" in (waiting.notes or "")
    make_due(system, child.id)
    paid: Action = {
        "claim_number": "FK0000000005",
        "status_category": "finalized_paid",
        "paid_amount": "125.00",
        "payment_method": "check",
        "payment_number": "CHK1001",
    }
    check(system, TaskType.CHECK_CLAIM_STATUS, paid)
    finished = reload(system, child.id)
    assert finished.status == "completed", finished.notes
    [webhook] = finished_webhooks(system, finished)
    assert webhook.payload["data"]["parent_task_id"] == done.public_id
    assert webhook.payload["data"]["result"]["payment_number"] == "CHK1001"


def test_a_claim_follow_up_still_open_at_for_says_so(system: System) -> None:
    account = account_with_login(system)
    parent = claim(system, account)
    run_worker(system, FakePortal(script={"capture_claim_number": [{"claim_number": "FK0000000006"}]}))
    child = child_of(system, reload(system, parent.id))
    set_deadline(system, child, utcnow() - timedelta(seconds=1))
    make_due(system, child.id)
    check(system, TaskType.CHECK_CLAIM_STATUS, {"status_category": "acknowledged"})
    done = reload(system, child.id)
    assert done.status == "completed_with_issues"
    assert done.notes == (
        "Still not finalized (acknowledged) after 45 days: the payer has not paid or denied the claim; "
        "follow it up with the payer."
    )


def test_a_failed_submission_or_a_decided_one_is_not_followed(system: System) -> None:
    account = account_with_login(system)
    parent = authorization(system, account)
    decided: Action = {
        "decision": "denied",
        "reference_number": "FKR3",
        "denial_reason": "Not medically necessary",
    }
    run_worker(system, FakePortal(script={"poll_decision": [decided]}), steps=auth_steps(system))
    done = reload(system, parent.id)
    assert done.status.is_final and "follow_up_task_id" not in (done.result or {})
    rejected = claim(system, account)
    refused: Action = Outcome.FAILED
    run_worker(system, FakePortal(script={"capture_claim_number": [refused]}))
    failed = reload(system, rejected.id)
    assert failed.status == "failed" and "follow_up_task_id" not in (failed.result or {})
    with session_scope(system.engine, readonly=True) as session:
        assert session.exec(select(Task).where(col(Task.parent_task_id).is_not(None))).all() == []


def test_an_account_turns_a_types_follow_ups_off_and_on(system: System) -> None:
    account = account_with_login(system)
    system.accounts.set_defaults(account.id, validate_defaults({"follow_up": {"submit_claim": "off"}}))
    system.accounts.set_defaults(account.id, validate_defaults({"follow_up": {"submit_appeal": "off"}}))
    stored = system.accounts.find(str(account.public_id)).defaults["follow_up"]
    assert stored == {"submit_claim": False, "submit_appeal": False}  # merged, type by type
    quiet = claim(system, account)
    run_worker(system, FakePortal(script={"capture_claim_number": [{"claim_number": "FK0000000007"}]}))
    done = reload(system, quiet.id)
    assert done.status == "completed" and "follow_up_task_id" not in (done.result or {})
    # Other types keep theirs.
    parent, _child = pended_authorization(system, account)
    assert "follow_up_task_id" in (parent.result or {})
    system.accounts.set_defaults(account.id, validate_defaults({"follow_up": {"submit_claim": "on"}}))
    followed = claim(system, account)
    run_worker(system, FakePortal(script={"capture_claim_number": [{"claim_number": "FK0000000008"}]}))
    assert child_of(system, reload(system, followed.id)).type == TaskType.CHECK_CLAIM_STATUS


def test_a_bad_follow_up_switch_is_refused_with_the_fix() -> None:
    with pytest.raises(InvalidRequest, match="'submit_claims' is not a task type"):
        validate_defaults({"follow_up": {"submit_claims": "off"}})
    with pytest.raises(InvalidRequest, match="neither on nor off"):
        validate_defaults({"follow_up": {"submit_claim": "later"}})


def api_caller(system: System, name: str = "Follow-up Clinic") -> tuple[Account, dict[str, str]]:
    created = system.accounts.create(name)
    system.credentials.add(
        created.account.id,
        payer="fake",
        url="http://portal.invalid/fake",
        username="biller",
        password="Canary-Pass-4417!",
        totp_secret=None,
    )
    return created.account, {"Authorization": f"Bearer {created.api_key}"}


def test_post_follow_up_asks_for_one_check_now(system: System, client: TestClient) -> None:
    account, headers = api_caller(system)
    parent, child = pended_authorization(system, account)
    assert system.queue.next_due_in() not in (None, 0.0)  # the follow-up waits for its 6 hours
    answer = client.post(f"/tasks/{parent.public_id}/follow-up", headers=headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["id"] == child.public_id and body["parent_task_id"] == parent.public_id
    assert body["status"] == "pending" and body["type"] == "check_authorization_status"
    assert system.queue.next_due_in() == 0.0
    # Named by the follow-up itself, too.
    assert client.post(f"/tasks/{child.public_id}/follow-up", headers=headers).status_code == 200
    shown = client.get(f"/tasks/{parent.public_id}", headers=headers).json()
    assert shown["parent_task_id"] is None and shown["result"]["follow_up_task_id"] == child.public_id
    # Once it has ended there is nothing to check.
    check(system, TaskType.CHECK_AUTHORIZATION_STATUS, {"decision": "approved"})
    ended = client.post(f"/tasks/{parent.public_id}/follow-up", headers=headers)
    assert ended.status_code == 409 and ended.json()["error"]["code"] == "no_follow_up", ended.text
    assert "is completed" in ended.json()["error"]["message"]


def test_post_follow_up_errors_are_clear(system: System, client: TestClient) -> None:
    account, headers = api_caller(system)
    task = authorization(system, account)  # pending, never run: no follow-up
    answer = client.post(f"/tasks/{task.public_id}/follow-up", headers=headers)
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "no_follow_up"
    assert "has no follow-up" in answer.json()["error"]["message"]
    assert client.post("/tasks/987654/follow-up", headers=headers).status_code == 404
    _other, other_headers = api_caller(system, "Another Clinic")
    assert client.post(f"/tasks/{task.public_id}/follow-up", headers=other_headers).status_code == 404


def test_get_tasks_lists_a_tasks_follow_ups(system: System, client: TestClient) -> None:
    account, headers = api_caller(system)
    parent, child = pended_authorization(system, account)
    other = authorization(system, account)  # no follow-up: it stays pending

    def listed(query: str, caller: dict[str, str] = headers) -> list[int]:
        answer = client.get(f"/tasks?{query}", headers=caller)
        assert answer.status_code == 200, answer.text
        return [task["id"] for task in answer.json()["data"]]

    assert set(listed("")) == {parent.public_id, child.public_id, other.public_id}
    assert listed(f"parent_task_id={parent.public_id}") == [child.public_id]
    assert listed(f"parent_task_id={child.public_id}") == []  # a follow-up has none of its own
    assert listed(f"parent_task_id={other.public_id}") == []
    # With the other filters: the follow-up is pending between checks.
    assert listed(f"parent_task_id={parent.public_id}&status=pending") == [child.public_id]
    assert listed(f"parent_task_id={parent.public_id}&status=completed") == []
    assert listed(f"parent_task_id={parent.public_id}&type=check_authorization_status") == [child.public_id]
    # Another account sees none of them.
    _stranger, stranger_headers = api_caller(system, "Another Clinic")
    assert listed(f"parent_task_id={parent.public_id}", stranger_headers) == []
    for bad in ("abc", "0", "-3", "1.5", str(2**63)):
        answer = client.get(f"/tasks?parent_task_id={bad}", headers=headers)
        assert answer.status_code == 422 and answer.json()["error"]["code"] == "invalid_request", bad
        assert "parent_task_id" in answer.json()["error"]["message"], answer.text
