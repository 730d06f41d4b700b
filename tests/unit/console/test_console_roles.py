"""Who may do what: viewers read, reviewers act on tasks, admins manage; accounts never mix."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from runner.core.operators import Role
from runner.core.system import System
from runner.core.tables import Account
from tests.unit.console.conftest import claim_data
from tests.unit.console.signed import Person, person


def test_a_viewer_reads_but_cannot_act(system: System, viewer: Person, clinic: Account) -> None:
    task = system.tasks.create(clinic, type="check_eligibility", data="member id: X", actor="test")
    page = viewer.get(f"/tasks/{task.id}")
    assert page.status_code == 200 and "Needs input" in page.text
    assert 'data-testid="input-form"' not in page.text and "Cancel task" not in page.text
    assert "New task" not in viewer.get("/tasks").text
    for path, data in [
        (f"/tasks/{task.id}/input", {"f.payer": "acme"}),
        (f"/tasks/{task.id}/review", {"decision": "approve"}),
        (f"/tasks/{task.id}/cancel", {}),
        (f"/tasks/{task.id}/retry", {}),
        ("/new", {"type": "check_eligibility", "data": "member id: X"}),
    ]:
        response = viewer.post(path, data)
        assert response.status_code == 403, path
        assert "Your role (viewer) cannot" in response.text
    assert viewer.get("/new").status_code == 403
    assert system.tasks.get(clinic.id, task.id)[0].status == "waiting_for_input"
    assert system.tasks.counts(clinic.id)["waiting_for_input"] == 1


def test_only_admins_reach_the_settings(viewer: Person, reviewer: Person, admin: Person) -> None:
    assert viewer.get("/settings").status_code == 403
    assert reviewer.get("/settings").status_code == 403
    assert reviewer.post("/settings/webhook", {"webhook_url": ""}).status_code == 403
    assert reviewer.post("/settings/keys", {"label": "x"}).status_code == 403
    page = admin.get("/settings")
    assert page.status_code == 200 and "API keys" in page.text
    assert "Settings" in admin.get("/tasks").text and "Settings" not in reviewer.get("/tasks").text


def test_another_accounts_task_is_not_reachable_by_url(
    system: System, reviewer: Person, other_clinic: Account
) -> None:
    theirs = system.tasks.create(other_clinic, type="check_eligibility", data="member id: X", actor="test")
    assert reviewer.get(f"/tasks/{theirs.id}").status_code == 404
    assert reviewer.get(f"/tasks/{theirs.id}/artifacts/anything.png").status_code == 404
    assert reviewer.get(f"/tasks/{theirs.id}/files/some-file").status_code == 404
    assert reviewer.post(f"/tasks/{theirs.id}/cancel").status_code == 404
    assert reviewer.post(f"/tasks/{theirs.id}/input", {"f.payer": "acme"}).status_code == 404
    assert reviewer.get(f"/tasks/number/{theirs.task_number}").status_code == 404
    listing = reviewer.get("/tasks").text
    assert theirs.id not in listing
    assert system.tasks.get(other_clinic.id, theirs.id)[0].status == "waiting_for_input"


def test_an_operator_sees_only_their_accounts_tasks(
    system: System, clinic: Account, other_clinic: Account, reviewer: Person
) -> None:
    mine = system.tasks.create(clinic, type="submit_claim", data=claim_data(), actor="test")
    system.tasks.create(other_clinic, type="submit_claim", data=claim_data(), actor="test")
    system.tasks.create(other_clinic, type="submit_claim", data=claim_data(), actor="test")
    page = reviewer.get("/tasks").text
    assert page.count('data-testid="task-row"') == 1 and f'href="/console/tasks/{mine.public_id}"' in page
    assert 'data-testid="count-pending">\n    <span class="n">1</span>' in page


def test_revoking_another_accounts_key_is_refused(
    system: System, admin: Person, other_clinic: Account
) -> None:
    [their_key] = system.accounts.list_keys(other_clinic.id)
    assert admin.post(f"/settings/keys/{their_key.id}/revoke").status_code == 404
    assert system.accounts.list_keys(other_clinic.id)[0].revoked_at is None


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.ADMIN])
def test_reviewers_and_admins_may_act(system: System, clinic: Account, role: Role) -> None:
    someone = person(system, clinic.id, f"{role.value}@example.test", role)
    someone.sign_in()
    task = system.tasks.create(clinic, type="check_eligibility", data="member id: X", actor="test")
    assert someone.post(f"/tasks/{task.id}/cancel", {"reason": "duplicate"}).status_code == 303
    assert system.tasks.get(clinic.id, task.id)[0].status == "failed"


def test_the_json_api_keeps_its_error_shape(client: TestClient, reviewer: Person) -> None:
    response = client.get("/tasks/nope", headers={"Authorization": "Bearer sk_x_y"})
    assert response.status_code == 401 and set(response.json()["error"]) == {"code", "message", "details"}
    missing = client.get("/no/such/endpoint")
    assert missing.json()["error"]["code"] == "not_found"
    console_missing = reviewer.get("/no/such/page")
    assert console_missing.status_code == 404 and console_missing.headers["content-type"].startswith(
        "text/html"
    )


def test_another_accounts_task_is_404_by_integer_id_and_by_uuid(
    system: System, clinic: Account, other_clinic: Account, reviewer: Person
) -> None:
    mine = system.tasks.create(clinic, type="submit_claim", data=claim_data(), actor="test")
    theirs = system.tasks.create(other_clinic, type="submit_claim", data=claim_data(), actor="test")
    page = reviewer.get(f"/tasks/{mine.public_id}")
    assert page.status_code == 200 and f'action="/console/tasks/{mine.public_id}/cancel"' in page.text
    assert reviewer.get(f"/tasks/{mine.id}").status_code == 200  # a link from before integer ids
    for ref in (theirs.public_id, theirs.id):
        assert reviewer.get(f"/tasks/{ref}").status_code == 404
        assert reviewer.post(f"/tasks/{ref}/cancel", {}).status_code == 404
    assert system.tasks.get(other_clinic.id, theirs.id)[0].status == "pending"  # not cancelled
