"""The task page links a submission to its follow-up and the follow-up to the submission it checks
on (issue 13), on a scripted portal and a fake browser."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from handlers.fake import FakePortal, Pending
from runner.core.db import session_scope
from runner.core.operators import Role
from runner.core.settings import Settings
from runner.core.system import System
from runner.core.tables import Task
from sops.types import TaskType
from tests.support.task_fixtures import task_fixture
from tests.unit.console.signed import person
from tests.unit.runner.scripted import account_with_login, reload, run_worker

PENDED = Pending({"decision": "pended", "decision_code": "A4", "reference_number": "FKR77"})


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"trace": "off", "poll_scale": 0.0})


def link(html: str, testid: str) -> str | None:
    """The href of the link with this test id, or None."""
    match = re.search(rf'<a href="([^"]+)" data-testid="{testid}">', html)
    return match.group(1) if match else None


def test_the_parent_links_to_its_follow_up_and_back(system: System) -> None:
    account = account_with_login(system)
    data = task_fixture("submit_prior_authorization").replace("payer: Acme Health", "payer: fake")
    parent = system.tasks.create(account, type="submit_prior_authorization", data=data, actor="test")
    sop = system.sops.library
    steps = sorted(
        {
            s.do
            for t in (TaskType.SUBMIT_PRIOR_AUTHORIZATION, TaskType.CHECK_AUTHORIZATION_STATUS)
            for s in sop.get(t).steps
        }
    )
    run_worker(system, FakePortal(script={"poll_decision": [PENDED]}), steps=steps)
    parent = reload(system, parent.id)
    with session_scope(system.engine, readonly=True) as session:
        [child] = session.exec(select(Task).where(Task.parent_task_id == parent.id)).all()
    lone = system.tasks.create(
        account, type="check_eligibility", data=task_fixture("check_eligibility"), actor="t"
    )
    viewer = person(system, account.id, "vic@example.test", Role.VIEWER)
    assert viewer.sign_in().status_code == 303

    parent_page = viewer.get(f"/tasks/{parent.public_id}")
    assert parent_page.status_code == 200, parent_page.text[-500:]
    assert link(parent_page.text, "follow-up-task") == f"/console/tasks/{child.public_id}"
    assert link(parent_page.text, "parent-task") is None
    assert f"#{child.task_number} check authorization status" in parent_page.text

    child_page = viewer.get(f"/tasks/{child.public_id}")
    assert child_page.status_code == 200, child_page.text[-500:]
    assert link(child_page.text, "parent-task") == f"/console/tasks/{parent.public_id}"
    assert link(child_page.text, "follow-up-task") is None
    assert f"#{parent.task_number} submit prior authorization" in child_page.text

    lone_page = viewer.get(f"/tasks/{lone.public_id}")
    assert link(lone_page.text, "parent-task") is None and link(lone_page.text, "follow-up-task") is None
