"""The worker end to end in real Chromium against a scripted portal (handlers.fake): leases,
outcomes, retries, review gates, the exactly-once mark and reconciliation, login stops, trajectories."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Sequence

import pytest
from sqlmodel import col, select

from handlers.errors import InputProblem, LoginRefused, NeedsInput, Transient
from handlers.fake import Action, FakePortal
from runner.core.db import session_scope
from runner.core.runtime import build_worker
from runner.core.settings import Settings
from runner.core.system import System
from runner.core.tables import Account, PortalCredential, Task, Trajectory, TrajectoryStep
from sops.types import Outcome
from tests.e2e.runner.threaded import run_async
from tests.support.task_fixtures import task_fixture

CLAIM_STEPS = ["login", "open_claim_form", "fill_claim", "submit_claim", "capture_claim_number"]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"trace": "on-failure", "poll_scale": 0.0})


def account_with_login(system: System, payer: str = "fake") -> Account:
    account = system.accounts.create("Clinic").account
    system.credentials.add(
        account.id,
        payer=payer,
        url="http://portal.invalid/fake",
        username="biller",
        password="pw",
        totp_secret=None,
    )
    return account


def claim(system: System, account: Account, *, extra: str = "") -> Task:
    data = task_fixture("submit_claim").replace("payer: Acme Health", "payer: fake") + extra
    task = system.tasks.create(account, type="submit_claim", data=data, actor="test")
    assert task.status == "pending", task.notes
    return task


def run_worker(system: System, portal: FakePortal, steps: Sequence[str] = CLAIM_STEPS) -> None:
    worker = build_worker(system, portals={"fake": portal.handler(steps)}, concurrency=2, poll_interval=0.05)
    run_async(lambda: worker.run(once=True))


def reload(system: System, task_id: str) -> Task:
    with session_scope(system.engine, readonly=True) as session:
        task = session.get(Task, task_id)
        assert task is not None
        return task


def make_due(system: System, task_id: str) -> None:
    with session_scope(system.engine) as session:
        task = session.get(Task, task_id)
        assert task is not None
        task.run_after = None
        session.add(task)


def test_happy_path_records_a_trajectory(system: System) -> None:
    account = account_with_login(system)
    task = claim(system, account)
    portal = FakePortal(script={"capture_claim_number": [{"claim_number": "FK0000000001"}]})
    run_worker(system, portal)
    done = reload(system, task.id)
    assert done.status == "completed", done.notes
    assert done.notes == "Claim submitted with reference FK0000000001."
    assert done.result == {"claim_number": "FK0000000001", "portal": "fake"}  # stamped by the runner
    assert done.submit_attempted_at is not None
    assert done.step_script_version == "fake@fake-1"
    with session_scope(system.engine, readonly=True) as session:
        steps = session.exec(
            select(TrajectoryStep)
            .where(TrajectoryStep.trajectory_id == done.trajectory_id)
            .order_by(col(TrajectoryStep.position))
        ).all()
    assert [s.script for s in steps] == CLAIM_STEPS
    assert all(s.outcome == "ok" for s in steps)
    shots = [system.artifacts.resolve(s.screenshot_path or "").read_bytes() for s in steps]
    # Viewport JPEGs for the steps that succeeded, the full page (PNG) for the last one.
    assert [shot[:2] for shot in shots[:-1]] == [b"\xff\xd8"] * 4
    assert shots[-1].startswith(b"\x89PNG")


def test_transient_error_is_retried_then_succeeds(system: System) -> None:
    account = account_with_login(system)
    task = claim(system, account)
    portal = FakePortal(script={"open_claim_form": [Transient("The payer is unavailable (AAA 42)."), None]})
    run_worker(system, portal)
    waiting = reload(system, task.id)
    assert waiting.status == "pending" and waiting.run_after is not None
    assert "retrying" in (waiting.notes or "")
    make_due(system, task.id)
    run_worker(system, portal)
    assert reload(system, task.id).status == "completed"
    assert reload(system, task.id).attempts == 2


def test_retries_run_out(system: System) -> None:
    account = account_with_login(system)
    task = claim(system, account)
    portal = FakePortal(script={"login": [Transient("HTTP 503 maintenance")]})
    for _ in range(3):
        run_worker(system, portal)
        make_due(system, task.id)
    failed = reload(system, task.id)
    assert failed.status == "failed"
    assert failed.notes == "Gave up after 3 attempts: HTTP 503 maintenance"


def test_payer_asks_for_input_then_completes(
    system: System,
) -> None:
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
    assert waiting.submit_attempted_at is None
    system.tasks.supply_input(account, task.id, data="DOB: 1985-06-15", uploads=[], actor="test")
    run_worker(system, portal)
    assert reload(system, task.id).status == "completed"


def test_review_gate_then_approve(system: System) -> None:
    account = account_with_login(system)
    lines = "\n".join("service line: cpt=99215, units=1, charge=2000.00, pointers=A" for _ in range(3))
    data = task_fixture("submit_claim").replace("payer: Acme Health", "payer: fake")
    data = (
        "\n".join(
            line for line in data.splitlines() if not line.lower().startswith(("service line", "total"))
        )
        + "\n"
        + lines
    )
    task = system.tasks.create(account, type="submit_claim", data=data, actor="test")
    assert task.status == "pending", task.notes
    portal = FakePortal()
    run_worker(system, portal)
    gated = reload(system, task.id)
    assert gated.status == "pending_review" and gated.review_step == "submit"
    assert portal.calls["submit_claim"] == 0
    system.tasks.review(account.id, task.id, approve=True, notes="checked", actor="test")
    run_worker(system, portal)
    assert reload(system, task.id).status == "completed"
    assert portal.calls["submit_claim"] == 1


def test_crash_past_the_mark_is_reconciled_not_resubmitted(system: System) -> None:
    account = account_with_login(system)
    task = claim(system, account)
    with session_scope(system.engine) as session:
        row = session.get(Task, task.id)
        assert row is not None
        row.submit_attempted_at = row.created_at  # an earlier attempt died after the click
        session.add(row)
    portal = FakePortal(reconcile_with={"claim_number": "FK0000000042"})
    run_worker(system, portal)
    done = reload(system, task.id)
    assert done.status == "completed" and done.result == {"claim_number": "FK0000000042", "portal": "fake"}
    assert portal.calls["submit_claim"] == 0 and portal.calls["reconcile"] == 1
    assert portal.calls["fill_claim"] == 0 and portal.calls["login"] == 1


def test_unresolved_reconciliation_goes_to_review_and_approval_allows_one_resubmit(system: System) -> None:
    account = account_with_login(system)
    task = claim(system, account)
    with session_scope(system.engine) as session:
        row = session.get(Task, task.id)
        assert row is not None
        row.submit_attempted_at = row.created_at
        session.add(row)
    portal = FakePortal(reconcile_with=None)
    run_worker(system, portal)
    review = reload(system, task.id)
    assert review.status == "pending_review" and review.review_step == "reconcile"
    assert portal.calls["submit_claim"] == 0
    system.tasks.review(account.id, task.id, approve=True, notes="not on the portal; resubmit", actor="test")
    run_worker(system, portal)
    done = reload(system, task.id)
    assert done.status == "completed"
    assert portal.calls["submit_claim"] == 1
    assert "reconcile" not in done.approved_gates


def test_unknown_payer_waits_for_input_naming_configured_ones(system: System) -> None:
    """Decided at create (issue 15 item 13): the worker never spends an attempt on it."""
    account = account_with_login(system, payer="acme")
    data = task_fixture("submit_claim").replace("payer: Acme Health", "payer: fake")
    task = system.tasks.create(account, type="submit_claim", data=data, actor="test")
    assert task.status == "waiting_for_input"
    assert "no portal login is set up for 'fake'" in (task.notes or "")
    assert "Acme Health (acme)" in (task.notes or "")
    run_worker(system, FakePortal())
    waiting = reload(system, task.id)
    assert waiting.status == "waiting_for_input" and waiting.attempts == 0


def test_refused_logins_stop_the_credential_before_a_lockout(system: System) -> None:
    account = account_with_login(system)
    tasks = [claim(system, account) for _ in range(3)]
    portal = FakePortal(script={"login": [LoginRefused("Invalid username or password.")]})
    worker = build_worker(
        system, portals={"fake": portal.handler(CLAIM_STEPS)}, concurrency=1, poll_interval=0.05
    )
    run_async(lambda: worker.run(once=True))
    notes = [reload(system, t.id).notes or "" for t in tasks]
    assert [reload(system, t.id).status for t in tasks] == ["failed"] * 3
    assert portal.calls["login"] == 2  # the third task never tried: the login was stopped
    assert "stopped after repeated refused logins" in notes[2]
    with session_scope(system.engine, readonly=True) as session:
        credential = session.exec(select(PortalCredential)).one()
    assert credential.disabled_at is not None


def test_business_outcome_with_issues(system: System) -> None:
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


def test_trajectory_api_serves_screenshots_to_the_owner_only(system: System) -> None:
    from fastapi.testclient import TestClient

    from runner.api.app import create_app

    created = system.accounts.create("Owner")
    system.credentials.add(
        created.account.id,
        payer="fake",
        url="http://portal.invalid/",
        username="u",
        password="p",
        totp_secret=None,
    )
    stranger = system.accounts.create("Stranger")
    task = claim(system, created.account)
    run_worker(system, FakePortal(script={"capture_claim_number": [{"claim_number": "FK1"}]}))
    with TestClient(create_app(system)) as api:
        owner = {"Authorization": f"Bearer {created.api_key}"}
        body = api.get(f"/tasks/{task.id}/trajectory", headers=owner).json()
        [attempt] = body["attempts"]
        assert [s["script"] for s in attempt["steps"]] == CLAIM_STEPS
        shot = attempt["steps"][0]["screenshot_url"]
        image = api.get(shot, headers=owner)
        assert image.status_code == 200 and image.content.startswith(b"\xff\xd8")
        assert image.headers["content-type"] == "image/jpeg"
        other = {"Authorization": f"Bearer {stranger.api_key}"}
        assert api.get(shot, headers=other).status_code == 404
        assert api.get(f"/tasks/{task.id}/trajectory", headers=other).status_code == 404
        escape = api.get(f"/tasks/{task.id}/artifacts/../../secret.key", headers=owner)
        assert escape.status_code == 404


def test_a_login_session_limit_holds_across_workers(system: System) -> None:
    """Two workers (each its own executor, as in two processes) share one login of one session:
    the attempts run one after another, never overlapping."""
    account = account_with_login(system)
    with session_scope(system.engine) as session:
        login = session.exec(select(PortalCredential)).one()
        login.max_sessions = 1
        session.add(login)
    tasks = [claim(system, account) for _ in range(3)]
    portal = FakePortal(script={"capture_claim_number": [{"claim_number": "FK0000000001"}]})

    async def two_workers() -> None:
        workers = [
            build_worker(
                system, portals={"fake": portal.handler(CLAIM_STEPS)}, concurrency=2, poll_interval=0.05
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
