"""Console actions call the same core services as the API and sign the timeline with the operator."""

from __future__ import annotations

from sqlmodel import select

from runner.core.db import session_scope
from runner.core.states import TaskStatus
from runner.core.system import System
from runner.core.tables import Account, Task, WebhookDelivery
from runner.core.tasks import TaskFilter
from runner.core.transitions import move
from tests.unit.console.conftest import claim_data
from tests.unit.console.signed import Person

ELIGIBILITY_MISSING_DOB = "member id: TST100200300\npatient: Tess Fixture\npayer: Acme Health"


def to_review(system: System, task_id: str, reason: str) -> None:
    """What the worker does at a review gate, through the one status-writing function."""
    with session_scope(system.engine) as session:
        task = session.get(Task, task_id)
        assert task is not None
        for status in (TaskStatus.DISPATCHING, TaskStatus.RUNNING):
            move(session, task, status, actor="worker:test", action="run")
        task.review_step = "submit"
        task.notes = reason
        move(
            session,
            task,
            TaskStatus.PENDING_REVIEW,
            actor="worker:test",
            action="review gate",
            message=reason,
        )


def actors(system: System, account: Account, task_id: str) -> list[tuple[str, str]]:
    return [(e.kind, e.actor) for e in system.tasks.events(account.id, task_id)]


def test_supplying_the_missing_field_requeues_the_task(
    system: System, reviewer: Person, clinic: Account
) -> None:
    task = system.tasks.create(clinic, type="check_eligibility", data=ELIGIBILITY_MISSING_DOB, actor="api:k")
    assert task.status == "waiting_for_input"
    queue = reviewer.get("/input").text
    assert 'name="f.date_of_birth"' in queue and "Missing" in queue
    response = reviewer.post(f"/tasks/{task.id}/input", {"f.date_of_birth": "1986-04-12", "next": "/input"})
    assert response.status_code == 303 and response.headers["location"] == "/console/input"
    after = reviewer.client.get(response.headers["location"]).text
    assert "has what it needs and is back in the queue" in after
    assert "Nothing is waiting for input." in after
    done, _files = system.tasks.get(clinic.id, task.id)
    assert done.status == "pending" and done.fields["date_of_birth"] == "1986-04-12"
    assert ("input", "operator:rita@example.test") in actors(system, clinic, task.id)


def test_a_wrong_answer_keeps_the_task_waiting_and_says_why(
    system: System, reviewer: Person, clinic: Account
) -> None:
    task = system.tasks.create(clinic, type="check_eligibility", data=ELIGIBILITY_MISSING_DOB, actor="api:k")
    response = reviewer.post(f"/tasks/{task.id}/input", {"f.date_of_birth": "2999-01-01"})
    page = reviewer.client.get(response.headers["location"]).text
    assert "still needs input" in page and "date of birth" in page
    assert system.tasks.get(clinic.id, task.id)[0].status == "waiting_for_input"


def test_a_service_line_problem_offers_the_lines_to_edit(
    system: System, reviewer: Person, clinic: Account
) -> None:
    data = claim_data().replace("charge=120.00", "charge=0")
    task = system.tasks.create(clinic, type="submit_claim", data=data, actor="api:k")
    page = reviewer.get(f"/tasks/{task.id}").text
    assert 'name="lines"' in page and "service line: procedure_code=97110" in page
    fixed = "\n".join(
        line.replace("charge=0", "charge=120.00")
        for line in data.splitlines()
        if line.startswith("service line")
    )
    reviewer.post(f"/tasks/{task.id}/input", {"lines": fixed})
    assert system.tasks.get(clinic.id, task.id)[0].status == "pending"


def test_documents_can_be_supplied_with_the_input(system: System, reviewer: Person, clinic: Account) -> None:
    task = system.tasks.create(clinic, type="check_eligibility", data=ELIGIBILITY_MISSING_DOB, actor="api:k")
    response = reviewer.client.post(
        f"/console/tasks/{task.id}/input",
        data={"csrf_token": reviewer.csrf},
        files={"files": ("dob.txt", b"date of birth: 1986-04-12\n", "text/plain")},
        follow_redirects=False,
    )
    assert response.status_code == 303
    done, files = system.tasks.get(clinic.id, task.id)
    assert done.status == "pending" and [f.filename for f in files] == ["dob.txt"]
    page = reviewer.get(f"/tasks/{task.id}").text
    assert "dob.txt" in page
    assert reviewer.get(f"/tasks/{task.id}/files/{files[0].id}").content == b"date of birth: 1986-04-12\n"


def test_an_empty_answer_is_refused_with_a_message(system: System, reviewer: Person, clinic: Account) -> None:
    task = system.tasks.create(clinic, type="check_eligibility", data=ELIGIBILITY_MISSING_DOB, actor="api:k")
    response = reviewer.post(f"/tasks/{task.id}/input", {"f.date_of_birth": "  "})
    assert "Send `data`" in reviewer.client.get(response.headers["location"]).text


def test_approve_and_reject_from_the_review_queue(system: System, reviewer: Person, clinic: Account) -> None:
    first = system.tasks.create(clinic, type="submit_claim", data=claim_data(), actor="api:k")
    second = system.tasks.create(clinic, type="submit_claim", data=claim_data(), actor="api:k")
    to_review(system, first.id, "Total charge is over $5,000: a person checks before submitting.")
    to_review(system, second.id, "Possible duplicate of an earlier claim.")
    queue = reviewer.get("/review").text
    assert queue.count('data-testid="review-card"') == 2 and "Possible duplicate" in queue
    assert "TST100200300" in queue  # the form values
    approve = reviewer.post(
        f"/tasks/{first.id}/review", {"decision": "approve", "notes": "ok", "next": "/review"}
    )
    assert "approved: it continues" in reviewer.client.get(approve.headers["location"]).text
    reviewer.post(f"/tasks/{second.id}/review", {"decision": "reject", "notes": "duplicate of #3"})
    approved = system.tasks.get(clinic.id, first.id)[0]
    rejected = system.tasks.get(clinic.id, second.id)[0]
    assert approved.status == "pending" and approved.approved_gates == ["submit"]
    assert rejected.status == "failed" and rejected.notes == "Rejected in review: duplicate of #3"
    assert ("approve", "operator:rita@example.test") in actors(system, clinic, first.id)
    assert ("reject", "operator:rita@example.test") in actors(system, clinic, second.id)
    timeline = reviewer.get(f"/tasks/{second.id}").text
    assert "by operator:rita@example.test" in timeline and "pending review → failed" in timeline


def test_a_review_decision_must_be_named(system: System, reviewer: Person, clinic: Account) -> None:
    task = system.tasks.create(clinic, type="submit_claim", data=claim_data(), actor="api:k")
    to_review(system, task.id, "check")
    response = reviewer.post(f"/tasks/{task.id}/review", {"decision": "maybe"})
    assert "Choose Approve or Reject." in reviewer.client.get(response.headers["location"]).text
    assert system.tasks.get(clinic.id, task.id)[0].status == "pending_review"


def test_reviewing_a_task_not_in_review_says_why(system: System, reviewer: Person, clinic: Account) -> None:
    task = system.tasks.create(clinic, type="submit_claim", data=claim_data(), actor="api:k")
    response = reviewer.post(f"/tasks/{task.id}/review", {"decision": "approve"})
    assert (
        "only a task in pending_review can be reviewed"
        in reviewer.client.get(response.headers["location"]).text
    )


def test_cancel_records_who_and_why(system: System, reviewer: Person, clinic: Account) -> None:
    task = system.tasks.create(clinic, type="submit_claim", data=claim_data(), actor="api:k")
    reviewer.post(f"/tasks/{task.id}/cancel", {"reason": "sent twice"})
    cancelled = system.tasks.get(clinic.id, task.id)[0]
    assert cancelled.status == "failed" and cancelled.notes == "Cancelled: sent twice"
    assert ("cancel", "operator:rita@example.test") in actors(system, clinic, task.id)
    again = reviewer.post(f"/tasks/{task.id}/cancel")
    assert "already final" in reviewer.client.get(again.headers["location"]).text


def test_retry_of_a_failed_task_is_a_new_task_with_the_same_data_and_files(
    system: System, reviewer: Person, clinic: Account
) -> None:
    response = reviewer.client.post(
        "/console/new",
        data={"csrf_token": reviewer.csrf, "type": "submit_claim", "data": claim_data()},
        files={"files": ("note.pdf", b"%PDF-1.4 synthetic", "application/pdf")},
        follow_redirects=False,
    )
    original_id = response.headers["location"].rsplit("/", 1)[-1]
    system.tasks.cancel(clinic.id, original_id, reason="portal down", actor="test")
    retried = reviewer.post(f"/tasks/{original_id}/retry")
    new_id = retried.headers["location"].rsplit("/", 1)[-1]
    original, original_files = system.tasks.get(clinic.id, original_id)
    copy, copy_files = system.tasks.get(clinic.id, new_id)
    assert copy.id != original.id and copy.task_number == original.task_number + 1
    assert copy.data == original.data and copy.status == "pending" and original.status == "failed"
    assert [f.sha256 for f in copy_files] == [f.sha256 for f in original_files]
    assert ("retry_of", "operator:rita@example.test") in actors(system, clinic, copy.id)
    assert ("retried_as", "operator:rita@example.test") in actors(system, clinic, original.id)
    page = reviewer.client.get(retried.headers["location"]).text
    assert f'href="/console/tasks/number/{original.task_number}"' in page  # linked in the timeline
    assert (
        reviewer.get(f"/tasks/number/{original.task_number}", follow_redirects=False).headers["location"]
        == f"/console/tasks/{original.public_id}"
    )


def test_only_a_failed_task_can_be_retried(system: System, reviewer: Person, clinic: Account) -> None:
    task = system.tasks.create(clinic, type="submit_claim", data=claim_data(), actor="api:k")
    response = reviewer.post(f"/tasks/{task.id}/retry")
    assert "only a failed task can be retried" in reviewer.client.get(response.headers["location"]).text
    assert system.tasks.counts(clinic.id)["pending"] == 1


def test_redeliver_a_webhook_from_the_task_page(system: System, reviewer: Person, clinic: Account) -> None:
    system.accounts.set_webhook_url(clinic.id, "https://hooks.example.test/sopwright")
    task = system.tasks.create(clinic, type="submit_claim", data=claim_data(), actor="api:k")
    system.tasks.cancel(clinic.id, task.id, reason=None, actor="test")  # final: a task_finished delivery
    with session_scope(system.engine) as session:
        delivery = session.exec(select(WebhookDelivery).where(WebhookDelivery.task_id == task.id)).one()
        delivery.status = "failed"
        session.add(delivery)
    page = reviewer.get(f"/tasks/{task.id}").text
    assert 'data-testid="delivery"' in page and "Redeliver" in page
    response = reviewer.post(f"/tasks/{task.id}/deliveries/{delivery.id}/redeliver")
    assert "queued for redelivery" in reviewer.client.get(response.headers["location"]).text
    again, _attempts = system.webhooks.get(clinic.id, delivery.id)
    assert again.status == "pending"
    assert ("redeliver", "operator:rita@example.test") in actors(system, clinic, task.id)


def test_new_task_with_incomplete_data_goes_to_input(
    system: System, reviewer: Person, clinic: Account
) -> None:
    form = reviewer.get("/new?type=submit_appeal").text
    assert 'data-hints-for="submit_appeal"' in form and "Original claim number" in form
    status = reviewer.get("/new?type=check_claim_status").text
    assert 'data-hints-for="check_claim_status"' in status and "First date of service" in status
    assert "Give the claim number, or the member ID, patient name" in status
    response = reviewer.post("/new", {"type": "check_eligibility", "data": "member id: TST100200300"})
    page = reviewer.client.get(response.headers["location"]).text
    assert "Needs input" in page and "created" in page
    [task] = system.tasks.search(clinic.id, filters=TaskFilter(), limit=5, cursor=None).tasks
    assert task.status == "waiting_for_input"
    assert ("create", "operator:rita@example.test") in actors(system, clinic, task.id)


def test_new_task_errors_keep_what_was_typed(reviewer: Person) -> None:
    response = reviewer.post("/new", {"type": "fax_a_pizza", "data": "member id: 42"})
    assert response.status_code == 422
    assert "fax_a_pizza" in response.text and "member id: 42" in response.text


def test_list_filters_counts_and_search(system: System, reviewer: Person, clinic: Account) -> None:
    claim = system.tasks.create(clinic, type="submit_claim", data=claim_data(), actor="api:k")
    system.tasks.create(clinic, type="check_eligibility", data=ELIGIBILITY_MISSING_DOB, actor="api:k")
    system.tasks.create(clinic, type="check_eligibility", data="member id: X\npayer: beacon", actor="api:k")

    def rows(query: str) -> int:
        page = reviewer.get(f"/tasks?{query}")
        assert page.status_code == 200
        return page.text.count('data-testid="task-row"')

    assert rows("") == 3
    assert rows("status=waiting_for_input") == 2
    assert rows("type=submit_claim") == 1
    assert rows("payer=beacon") == 1
    assert rows(f"number=%23{claim.task_number}") == 1
    assert rows("from=2000-01-01&to=2000-01-02") == 0
    assert rows("status=&type=&payer=&from=&to=&number=") == 3
    bad = reviewer.get("/tasks?number=abc").text
    assert "digits only" in bad


def test_the_list_pages_newest_first(system: System, reviewer: Person, clinic: Account) -> None:
    for _ in range(27):
        system.tasks.create(clinic, type="check_eligibility", data="member id: X", actor="api:k")
    first = reviewer.get("/tasks").text
    assert first.count('data-testid="task-row"') == 25
    assert first.index("Check eligibility #27") < first.index("Check eligibility #26")
    older = first.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    second = reviewer.client.get(older).text
    assert second.count('data-testid="task-row"') == 2 and "Check eligibility #1<" in second


def test_a_choice_field_offers_its_values(system: System, reviewer: Person, clinic: Account) -> None:
    task = system.tasks.create(clinic, type="submit_appeal", data="member id: TST100200300", actor="api:k")
    page = reviewer.get(f"/tasks/{task.id}").text
    assert 'name="f.reason_category"' in page and 'list="choices-' in page
    assert '<option value="medical_necessity">' in page and "One of: authorization, bundling" in page
