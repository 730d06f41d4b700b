"""The worker's rules on a scripted portal and a fake browser (no Chromium), on SQLite and
PostgreSQL: outcomes, retries and their back-off, input asked of the client, review gates, the
exactly-once mark and reconciliation, polling, the login stop, an unknown payer, the login's
session limit, and a browser outage."""

from __future__ import annotations

import asyncio
import itertools
from datetime import timedelta

import pytest
from sqlmodel import select

from handlers.context import Outcome
from handlers.errors import InputProblem, LoginRefused, NeedsInput, PortalChanged, Transient
from handlers.fake import Action, FakePortal, Pending
from runner.core.db import session_scope
from runner.core.fake_browser import FakeBrowser
from runner.core.runtime import build_executor
from runner.core.settings import Settings
from runner.core.system import System
from runner.core.tables import Account, PortalCredential, Task, TaskFile, Trajectory
from runner.core.tables.base import as_utc
from runner.core.worker import Worker
from sops.types import TaskType
from tests.support.task_fixtures import task_fixture
from tests.support.threaded import run_async
from tests.unit.runner.scripted import (
    CLAIM_STEPS,
    account_with_login,
    claim,
    claim_data,
    make_due,
    mark_submitted,
    moves,
    reload,
    run_worker,
    steps_of,
)

CLAIM_NUMBER = {"claim_number": "FK0000000001"}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"trace": "on-failure", "poll_scale": 0.0})


def test_a_claim_runs_every_step_and_completes(system: System) -> None:
    account = account_with_login(system)
    task = claim(system, account)
    browser = run_worker(system, FakePortal(script={"capture_claim_number": [CLAIM_NUMBER]}))
    done = reload(system, task.id)
    assert done.status == "completed", done.notes
    assert done.notes == "Claim submitted with reference FK0000000001."
    # The runner stamps the portal, and the claim's follow-up (test_follow_ups.py).
    follow_up = (done.result or {}).pop("follow_up_task_id")
    assert done.result == {**CLAIM_NUMBER, "portal": "fake"} and follow_up != done.public_id
    assert done.submit_attempted_at is not None and done.attempts == 1
    assert done.step_script_version == "fake@fake-1" and done.sop_version == 1
    assert done.lease_owner is None and done.lease_expires_at is None
    steps = steps_of(system, done.trajectory_id)
    assert [s.script for s in steps] == CLAIM_STEPS and {s.outcome for s in steps} == {"ok"}
    shots = [system.artifacts.resolve(s.screenshot_path or "").read_bytes() for s in steps]
    # Viewport JPEGs for the steps that succeeded, the full page (PNG) for the last one.
    assert [shot[:2] for shot in shots[:-1]] == [b"\xff\xd8"] * 4 and shots[-1].startswith(b"\x89PNG")
    assert [a for _, _, a in moves(system, task.id)] == ["claim", "start", "finish"]
    assert browser.started == browser.stopped == 1 and len(browser.opened) == 1 and browser.in_use == 0


def test_a_transient_error_is_retried_after_the_sops_back_off_then_succeeds(system: System) -> None:
    account = account_with_login(system)
    task = claim(system, account)
    portal = FakePortal(script={"open_claim_form": [Transient("The payer is unavailable (AAA 42)."), None]})
    run_worker(system, portal)
    waiting = reload(system, task.id)
    assert waiting.status == "pending" and waiting.run_after is not None
    # submit_claim's back-off starts at 60 s; the wait is counted from the attempt's end.
    assert waiting.run_after - waiting.updated_at == timedelta(seconds=60)
    assert waiting.notes == (
        "Attempt 1 of 3 did not finish (The payer is unavailable (AAA 42).); retrying in 60 s."
    )
    run_worker(system, portal)
    assert reload(system, task.id).status == "pending", "not due yet: nothing ran"
    assert portal.calls["open_claim_form"] == 1
    make_due(system, task.id)
    run_worker(system, portal)
    done = reload(system, task.id)
    assert done.status == "completed" and done.attempts == 2


def test_the_back_off_doubles_and_honours_what_the_portal_asked(system: System) -> None:
    account = account_with_login(system)
    task = claim(system, account)
    portal = FakePortal(script={"login": [Transient("HTTP 503"), Transient("HTTP 429", retry_after=600)]})
    run_worker(system, portal)
    first = reload(system, task.id)
    assert first.run_after is not None and first.run_after - first.updated_at == timedelta(seconds=60)
    make_due(system, task.id)
    run_worker(system, portal)
    second = reload(system, task.id)
    # 120 s by the SOP's doubling, but the portal asked for 600 s.
    assert second.run_after is not None and second.run_after - second.updated_at == timedelta(seconds=600)


def test_retries_run_out_and_the_task_fails(system: System) -> None:
    account = account_with_login(system)
    task = claim(system, account)
    portal = FakePortal(script={"login": [Transient("HTTP 503 maintenance")]})
    for _ in range(3):
        run_worker(system, portal)
        make_due(system, task.id)
    failed = reload(system, task.id)
    assert failed.status == "failed" and failed.attempts == 3
    assert failed.notes == "Gave up after 3 attempts: HTTP 503 maintenance"
    assert (failed.result or {})["failure_reason"] == "HTTP 503 maintenance"
    with session_scope(system.engine, readonly=True) as session:
        trajectories = session.exec(select(Trajectory).where(Trajectory.task_id == task.id)).all()
    assert sorted(t.outcome or "" for t in trajectories) == ["failed", "pending", "pending"]


def test_the_payer_asks_for_input_then_the_task_completes(system: System) -> None:
    account = account_with_login(system)
    task = claim(system, account)
    wrong = NeedsInput(
        "The payer says the date of birth does not match its records.",
        problems=[InputProblem("date_of_birth", "does not match")],
    )
    portal = FakePortal(script={"fill_claim": [wrong, None]})
    run_worker(system, portal)
    waiting = reload(system, task.id)
    assert waiting.status == "waiting_for_input"
    assert waiting.problems == [{"field": "date_of_birth", "message": "does not match"}]
    assert waiting.submit_attempted_at is None and portal.calls["submit_claim"] == 0
    system.tasks.supply_input(account, task.id, data="DOB: 1985-06-15", uploads=[], actor="test")
    run_worker(system, portal)
    assert reload(system, task.id).status == "completed"


def test_a_review_gate_stops_before_the_submit_until_approved(system: System) -> None:
    account = account_with_login(system)
    task = claim(system, account, charges=("2000.00", "2000.00", "2000.00"))
    portal = FakePortal()
    run_worker(system, portal)
    gated = reload(system, task.id)
    assert gated.status == "pending_review" and gated.review_step == "submit"
    assert portal.calls["submit_claim"] == 0 and gated.submit_attempted_at is None
    system.tasks.review(account.id, task.id, approve=True, notes="checked", actor="test")
    run_worker(system, portal)
    done = reload(system, task.id)
    assert done.status == "completed" and done.approved_gates == ["submit"]
    assert portal.calls["submit_claim"] == 1


def test_a_rejected_review_fails_the_task(system: System) -> None:
    account = account_with_login(system)
    task = claim(system, account, charges=("6000.00",))
    run_worker(system, FakePortal())
    system.tasks.review(account.id, task.id, approve=False, notes="wrong amount", actor="test")
    rejected = reload(system, task.id)
    assert rejected.status == "failed" and rejected.notes == "Rejected in review: wrong amount"


def test_the_submit_mark_is_committed_before_the_irreversible_step_runs(system: System) -> None:
    """An error in the submit itself leaves the mark: the next attempt reconciles."""
    account = account_with_login(system)
    task = claim(system, account)
    portal = FakePortal(script={"submit_claim": [PortalChanged("The submit button is gone.")]})
    run_worker(system, portal)
    crashed = reload(system, task.id)
    assert crashed.status == "pending" and crashed.submit_attempted_at is not None
    assert "the next attempt first looks for it on the portal" in (crashed.notes or "")


def test_a_crash_past_the_mark_is_reconciled_not_resubmitted(system: System) -> None:
    account = account_with_login(system)
    task = claim(system, account)
    mark_submitted(system, task.id)
    portal = FakePortal(reconcile_with={"claim_number": "FK0000000042"})
    run_worker(system, portal)
    done = reload(system, task.id)
    assert done.status == "completed" and (done.result or {})["claim_number"] == "FK0000000042"
    assert portal.calls["submit_claim"] == 0 and portal.calls["reconcile"] == 1
    assert portal.calls["fill_claim"] == 0 and portal.calls["login"] == 1
    assert [s.outcome for s in steps_of(system, done.trajectory_id)] == [
        "ok",
        "skipped",
        "skipped",
        "reconciled",
        "ok",
    ]
    # The confirmation page went with the crashed attempt: the page that shows the submission is
    # kept instead, as the portal's document of it.
    with session_scope(system.engine, readonly=True) as session:
        kept = session.exec(select(TaskFile).where(TaskFile.task_id == task.id)).all()
    assert [(f.source, f.kind, f.filename) for f in kept] == [
        ("portal", "document", "submit_claim-as-found-on-the-portal.pdf")
    ]


def crashed_and_not_found(
    system: System,
    *,
    listing_delay: float = 0,
    login_delay: int | None = None,
    ago: timedelta = timedelta(0),
) -> tuple[Task, FakePortal]:
    """A claim whose earlier attempt died past the submit mark `ago`, run once on a portal that does
    not list it; `listing_delay` is the fleet's setting, `login_delay` the login's own."""
    system.settings = system.settings.model_copy(update={"listing_delay": listing_delay})
    account = account_with_login(system)
    if login_delay is not None:
        login = system.credentials.for_payer(account.id, "fake", names={"fake": "Fake Payer"})
        with session_scope(system.engine) as session:
            row = session.get(PortalCredential, login.id)
            assert row is not None
            row.listing_delay = login_delay
            session.add(row)
    task = claim(system, account)
    mark_submitted(system, task.id, ago=ago)
    portal = FakePortal(reconcile_with=False)
    run_worker(system, portal)
    return reload(system, task.id), portal


def test_a_submission_the_portal_does_not_show_goes_to_review(system: System) -> None:
    review, portal = crashed_and_not_found(system)
    assert review.status == "pending_review" and review.review_step == "reconcile"
    assert "the portal shows no such submission" in (review.notes or "")
    assert portal.calls["submit_claim"] == 0


def test_a_recent_submission_the_portal_does_not_list_yet_is_looked_for_again(system: System) -> None:
    """Within the portal's listing delay since the submit, "not found" is "not listed yet": the
    task waits (its attempt given back) and looks again, and finds the submission; nothing is sent
    twice and nobody is asked."""
    waiting, portal = crashed_and_not_found(system, listing_delay=3600)
    assert waiting.status == "pending" and waiting.attempts == 0, waiting.notes
    assert "does not list the earlier submission yet" in (waiting.notes or "")
    assert waiting.submit_attempted_at is not None  # still to be reconciled, never resubmitted
    wait = as_utc(waiting.run_after) - as_utc(waiting.submit_attempted_at)  # type: ignore[operator]
    assert timedelta(minutes=59) < wait <= timedelta(minutes=61)  # once the delay is over
    make_due(system, waiting.id)
    portal.reconcile_with = {"claim_number": "FK0000000042"}
    run_worker(system, portal)
    done = reload(system, waiting.id)
    assert done.status == "completed" and done.result["claim_number"] == "FK0000000042"
    assert portal.calls["submit_claim"] == 0 and portal.calls["reconcile"] == 2


def test_a_logins_own_listing_delay_comes_before_the_fleets(system: System) -> None:
    # This portal lists a submission at once, whatever the fleet's setting says.
    review, _portal = crashed_and_not_found(system, listing_delay=3600, login_delay=0)
    assert review.status == "pending_review"


def test_past_the_listing_delay_a_submission_the_portal_does_not_list_goes_to_review(system: System) -> None:
    review, portal = crashed_and_not_found(system, listing_delay=60, ago=timedelta(minutes=2))
    assert review.status == "pending_review" and review.review_step == "reconcile"
    assert portal.calls["submit_claim"] == 0


def test_an_unresolved_reconciliation_approved_allows_one_resubmit(system: System) -> None:
    account = account_with_login(system)
    task = claim(system, account)
    mark_submitted(system, task.id)
    portal = FakePortal(reconcile_with=None)
    run_worker(system, portal)
    review = reload(system, task.id)
    assert review.status == "pending_review" and review.review_step == "reconcile"
    assert "this portal cannot look submissions up" in (review.notes or "")
    system.tasks.review(account.id, task.id, approve=True, notes="not on the portal; resubmit", actor="test")
    run_worker(system, portal)
    done = reload(system, task.id)
    assert done.status == "completed"
    assert portal.calls["submit_claim"] == 1 and portal.calls["reconcile"] == 2
    assert "reconcile" not in done.approved_gates  # good for one submission only


def test_a_pended_decision_is_polled_until_the_payer_decides(system: System) -> None:
    account = account_with_login(system)
    data = task_fixture("submit_prior_authorization").replace("payer: Acme Health", "payer: fake")
    task = system.tasks.create(account, type="submit_prior_authorization", data=data, actor="test")
    assert task.status == "pending", task.notes
    steps = sorted({s.do for s in system.sops.library.get(TaskType(task.type)).steps})
    pended: Action = Pending({"decision": "pended", "reference_number": "FKR1"})
    decided: Action = {"decision": "approved", "certification_number": "FKC1"}
    portal = FakePortal(script={"poll_decision": [pended, decided]})
    run_worker(system, portal, steps=steps)
    done = reload(system, task.id)
    assert done.status == "completed", done.notes
    assert portal.calls["poll_decision"] == 2 and done.attempts == 1
    assert "follow_up_task_id" not in (done.result or {})  # decided: nothing to follow
    assert (done.result or {})["certification_number"] == "FKC1"


def test_still_pending_at_the_last_poll_completes_with_issues(system: System) -> None:
    account = account_with_login(system)
    data = task_fixture("submit_prior_authorization").replace("payer: Acme Health", "payer: fake")
    task = system.tasks.create(account, type="submit_prior_authorization", data=data, actor="test")
    sop = system.sops.library.get(TaskType(task.type))
    poll = next(s for s in sop.steps if s.poll is not None)
    assert poll.poll is not None
    portal = FakePortal(
        script={"poll_decision": [Pending({"decision": "pended", "reference_number": "FKR2"})]}
    )
    run_worker(system, portal, steps=sorted({s.do for s in sop.steps}))
    done = reload(system, task.id)
    assert done.status == "completed_with_issues"
    assert done.notes == "Prior authorization pended (reference FKR2)."
    assert portal.calls["poll_decision"] == poll.poll.max_polls
    assert steps_of(system, done.trajectory_id)[-1].message == "Still pending at the last poll."


def test_a_business_outcome_with_issues(system: System) -> None:
    account = account_with_login(system)
    task = claim(system, account)
    action: Action = Outcome.COMPLETED_WITH_ISSUES
    portal = FakePortal(
        script={"submit_claim": [{"duplicate_of": "FK0000000007"}], "capture_claim_number": [action]}
    )
    run_worker(system, portal)
    done = reload(system, task.id)
    assert done.status == "completed_with_issues"
    assert "FK0000000007" in (done.notes or "")


def account_with_login_for(system: System, account: Account, payer: str) -> None:
    system.credentials.add(
        account.id,
        payer=payer,
        url="http://portal.invalid/acme",
        username="b",
        password="pw",
        totp_secret=None,
    )


def test_a_payer_without_a_login_waits_at_create_and_the_worker_spends_no_attempt(system: System) -> None:
    account = account_with_login(system, payer="acme")
    data = claim_data()
    task = system.tasks.create(account, type="submit_claim", data=data, actor="test")
    assert task.status == "waiting_for_input"
    browser = run_worker(system, FakePortal())
    waiting = reload(system, task.id)
    assert waiting.status == "waiting_for_input" and waiting.attempts == 0 and browser.opened == []


def test_a_login_removed_after_create_parks_the_task_in_one_move(system: System) -> None:
    """The worker finds no login for the payer (it was removed since the task was created, another
    one added): the task waits for input naming the configured ones, in one honest move."""
    account = account_with_login(system)
    task = claim(system, account)
    with session_scope(system.engine) as session:
        session.delete(session.exec(select(PortalCredential)).one())
    account_with_login_for(system, account, "acme")
    browser = run_worker(system, FakePortal())
    waiting = reload(system, task.id)
    assert waiting.status == "waiting_for_input", (waiting.notes, waiting.payer)
    assert "No portal login is configured for payer 'fake'" in (waiting.notes or "")
    assert "acme" in (waiting.notes or "")
    assert waiting.problems and waiting.problems[0]["field"] == "payer"
    assert waiting.lease_owner is None and waiting.started_at is None
    # The attempt never started: dispatching -> waiting_for_input, no 'start'.
    assert moves(system, task.id)[-1] == ("dispatching", "waiting_for_input", "finish")
    assert browser.opened == []


def test_refused_logins_stop_the_credential_before_a_lockout(system: System) -> None:
    account = account_with_login(system)
    tasks = [claim(system, account) for _ in range(3)]
    portal = FakePortal(script={"login": [LoginRefused("Invalid username or password.")]})
    browser = run_worker(system, portal, concurrency=1)
    assert [reload(system, t.id).status for t in tasks] == ["failed"] * 3
    assert portal.calls["login"] == 2  # the third task never tried: the login was stopped
    notes = [reload(system, t.id).notes or "" for t in tasks]
    assert notes[0] == "The portal refused the login: Invalid username or password."
    assert "stopped after repeated refused logins" in notes[2]
    assert moves(system, tasks[2].id)[-1] == ("dispatching", "failed", "finish")
    assert len(browser.opened) == 2
    with session_scope(system.engine, readonly=True) as session:
        credential = session.exec(select(PortalCredential)).one()
    assert credential.disabled_at is not None
    assert system.credentials.saved_session(credential, 0) is None  # a refused login's session is not kept


def test_a_login_session_limit_holds_across_workers(system: System) -> None:
    """Two workers (each its own executor and browser, as in two processes) share one login of
    one session: the attempts run one after another, never overlapping."""
    account = account_with_login(system)
    with session_scope(system.engine) as session:
        login = session.exec(select(PortalCredential)).one()
        login.max_sessions = 1
        session.add(login)
    tasks = [claim(system, account) for _ in range(3)]
    portal = FakePortal(script={"capture_claim_number": [CLAIM_NUMBER]})

    async def two_workers() -> None:
        workers = [
            Worker(
                system.queue,
                build_executor(system, portals={"fake": portal.handler(CLAIM_STEPS)}),
                FakeBrowser(),
                concurrency=2,
                poll_interval=0.05,
            )
            for _ in range(2)
        ]
        await asyncio.gather(*(worker.run(once=True) for worker in workers))

    run_async(two_workers)
    assert [reload(system, t.id).status for t in tasks] == ["completed"] * 3
    with session_scope(system.engine, readonly=True) as session:
        spans = sorted((t.started_at, t.ended_at) for t in session.exec(select(Trajectory)).all())
    assert len(spans) == 3
    for (_, ended), (started, _) in itertools.pairwise(spans):
        assert ended is not None and ended <= started


def test_a_browser_outage_gives_the_task_back_without_spending_an_attempt(system: System) -> None:
    account = account_with_login(system)
    task = claim(system, account)
    run_worker(system, FakePortal(), browser=FakeBrowser(unavailable=True))
    back = reload(system, task.id)
    assert back.status == "pending" and back.attempts == 0 and back.run_after is not None
    assert moves(system, task.id)[-1] == ("running", "pending", "defer")
