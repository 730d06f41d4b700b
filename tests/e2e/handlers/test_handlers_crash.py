"""Exactly-once submission across crashes: a worker killed (SIGKILL) between the submit click and
the capture, and in-process failures past the point of no return. The next attempt reconciles by
looking the submission up on the portal, never by submitting again."""

from __future__ import annotations

import io
import os
import re
import select
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlmodel import col
from sqlmodel import select as sql_select

from handlers.context import StepContext
from runner.core.db import session_scope
from runner.core.settings import Settings
from runner.core.tables import Task, TrajectoryStep
from tests.e2e.handlers import task_data
from tests.e2e.handlers.conftest import Clinic, replacing, with_hook

ROOT = Path(__file__).resolve().parents[3]
CRASH_WORKER = Path(__file__).with_name("crash_worker.py")
SUBMIT_TIMEOUT_SECONDS = 90.0
KINDS = {"submit_claim": "claim", "submit_prior_authorization": "prior_auth", "submit_appeal": "appeal"}
IDENTIFIER = {"submit_claim": "claim_number", "submit_prior_authorization": "reference_number"}


def worker_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOPWRIGHT_")}
    env.update(
        SOPWRIGHT_DATA_DIR=str(settings.data_dir),
        SOPWRIGHT_DATABASE_URL=settings.resolved_database_url(),
        SOPWRIGHT_SECRET_KEY=str(settings.secret_key),
        SOPWRIGHT_ALLOW_HOSTS=settings.allow_hosts,
        SOPWRIGHT_POLL_SCALE=str(settings.poll_scale),
        SOPWRIGHT_TRACE="off",
        PYTHONPATH=str(ROOT),
    )
    return env


def wait_for_line(process: subprocess.Popen[str], wanted: str) -> None:
    """Read the worker's output until `wanted` (a deadline, not a sleep: select on its pipe)."""
    assert process.stdout is not None
    deadline = time.monotonic() + SUBMIT_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], deadline - time.monotonic())
        if not ready:
            break
        line = process.stdout.readline()
        if not line:
            pytest.fail(f"The worker exited (code {process.wait()}) before the submit.")
        if line.strip() == wanted:
            return
    pytest.fail(f"The worker did not print {wanted} within {SUBMIT_TIMEOUT_SECONDS} s.")


def expire_lease(clinic: Clinic, task_id: str) -> None:
    """The killed worker's lease runs out (as it would after lease_seconds)."""
    with session_scope(clinic.system.engine) as session:
        task = session.get(Task, task_id)
        assert task is not None
        task.lease_expires_at = datetime.now(UTC) - timedelta(seconds=1)
        session.add(task)


def step_outcomes(clinic: Clinic, trajectory_id: str | None) -> dict[str, str]:
    with session_scope(clinic.system.engine, readonly=True) as session:
        steps = session.exec(
            sql_select(TrajectoryStep)
            .where(TrajectoryStep.trajectory_id == trajectory_id)
            .order_by(col(TrajectoryStep.position))
        ).all()
    return {s.step_id: s.outcome for s in steps}


def test_worker_killed_between_submit_and_capture(clinic: Clinic, settings: Settings, payer: str) -> None:
    clinic.add_login(payer)
    task = clinic.create("submit_claim", task_data.claim(payer))
    with subprocess.Popen(
        [sys.executable, str(CRASH_WORKER), payer, "submit_claim"],
        env=worker_env(settings),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,  # its own process group: the browser dies with it
    ) as process:
        try:
            wait_for_line(process, "SUBMITTED")
        finally:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
    crashed = clinic.get(task.id)
    assert crashed.status == "running" and crashed.submit_attempted_at is not None
    assert "claim_number" not in (crashed.result or {})
    [sent] = clinic.portal.submissions(payer=payer, kind="claim")

    expire_lease(clinic, task.id)
    clinic.run()
    done = clinic.get(task.id)
    assert done.status == "completed", done.notes
    assert (done.result or {})["claim_number"] == sent["identifiers"]["claim_number"]
    assert len(clinic.portal.submissions(payer=payer, kind="claim")) == 1
    assert step_outcomes(clinic, done.trajectory_id)["submit"] == "reconciled"


@pytest.mark.parametrize("task_type", list(KINDS))
def test_failure_after_submit_is_reconciled_not_resubmitted(
    clinic: Clinic, payer: str, task_type: str
) -> None:
    clinic.add_login(payer)
    data = {
        "submit_claim": task_data.claim(payer),
        "submit_prior_authorization": task_data.authorization(payer),
        "submit_appeal": task_data.appeal(payer),
    }[task_type]
    task = clinic.create(task_type, data)

    async def crash(ctx: StepContext) -> None:
        raise RuntimeError("the worker lost its browser right after the submit")

    clinic.run(portals=with_hook(payer, task_type, crash))  # the submit step is named like the type
    retrying = clinic.get(task.id)
    assert retrying.status == "pending" and retrying.submit_attempted_at is not None, retrying.notes
    [sent] = clinic.portal.submissions(payer=payer, kind=KINDS[task_type])

    clinic.make_due(task.id)
    clinic.run()
    done = clinic.get(task.id)
    assert done.status == "completed", done.notes
    assert step_outcomes(clinic, done.trajectory_id)["submit"] == "reconciled"
    assert len(clinic.portal.submissions(payer=payer, kind=KINDS[task_type])) == 1
    result = done.result or {}
    if task_type in IDENTIFIER:
        key = IDENTIFIER[task_type]
        assert result[key] == sent["identifiers"][key]
    else:
        assert result["original_claim_number"] == task_data.DENIED_CLAIM[payer]
        assert result.get("tracking_number") == sent["identifiers"].get("tracking_number")
    # The confirmation page went with the crashed attempt: the portal's page that shows the
    # submission is kept instead, and names it.
    [(kept, pdf)] = [(f, data) for f, data in clinic.portal_files(task.id) if f.kind == "document"]
    assert kept.filename == f"{task_type}-as-found-on-the-portal.pdf"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    named = result[IDENTIFIER[task_type]] if task_type in IDENTIFIER else result["original_claim_number"]
    assert str(named) in text


def test_a_submission_the_portal_lists_late_is_waited_for_not_sent_twice(clinic: Clinic, payer: str) -> None:
    """The portal lists a new claim in its search only after 30 minutes (its clock). A crash right
    after the click: the next attempt finds nothing yet, and within the listing delay it waits
    (its attempt not counted) instead of asking a person, who would see the same empty search and
    might approve a second submission; after the delay it finds the claim."""
    clinic.system.settings = clinic.system.settings.model_copy(update={"listing_delay": 3600})
    clinic.portal.set_knobs(claim_index_delay_minutes=30)
    clinic.add_login(payer)
    task = clinic.create("submit_claim", task_data.claim(payer))

    async def crash(ctx: StepContext) -> None:
        raise RuntimeError("the worker lost its browser right after the submit")

    clinic.run(portals=with_hook(payer, "submit_claim", crash))
    [sent] = clinic.portal.submissions(payer=payer, kind="claim")
    clinic.make_due(task.id)
    clinic.run()
    waiting = clinic.get(task.id)
    assert waiting.status == "pending", waiting.notes
    assert "does not list the earlier submission yet" in (waiting.notes or "")
    assert step_outcomes(clinic, waiting.trajectory_id)["submit"] == "not_listed_yet"
    assert waiting.attempts == 1  # the crashed attempt counts; the one that waited does not

    clinic.portal.advance_clock(31 * 60)
    clinic.make_due(task.id)
    clinic.run()
    done = clinic.get(task.id)
    assert done.status == "completed", done.notes
    assert step_outcomes(clinic, done.trajectory_id)["submit"] == "reconciled"
    assert (done.result or {})["claim_number"] == sent["identifiers"]["claim_number"]
    assert len(clinic.portal.submissions(payer=payer, kind="claim")) == 1


def test_submit_that_never_reached_the_portal_goes_to_review(clinic: Clinic) -> None:
    """Marked as attempted, but the portal has nothing: a person decides; approving resubmits."""
    clinic.add_login("acme")
    task = clinic.create("submit_claim", task_data.claim("acme"))

    async def crash_before_the_click(ctx: StepContext) -> None:
        raise RuntimeError("crashed after the mark, before the click")

    clinic.run(portals=replacing("acme", "submit_claim", crash_before_the_click))
    parked = clinic.get(task.id)
    assert parked.status == "pending" and parked.submit_attempted_at is not None, parked.notes
    clinic.make_due(task.id)
    clinic.run()
    review = clinic.get(task.id)
    assert review.status == "pending_review" and review.review_step == "reconcile", review.notes
    assert clinic.portal.submissions(kind="claim") == []
    clinic.approve(task.id)
    clinic.run()
    done = clinic.get(task.id)
    assert done.status == "completed", done.notes
    assert len(clinic.portal.submissions(kind="claim")) == 1


def test_an_earlier_request_of_the_same_member_is_not_taken_for_this_one(clinic: Clinic, payer: str) -> None:
    """Recurring authorizations: same member, same procedures, other dates of service. A task that
    crashed before its click must not reconcile to last month's request (and finish without one)."""
    clinic.add_login(payer)
    earlier = clinic.create("submit_prior_authorization", task_data.authorization(payer))
    clinic.run()
    assert clinic.get(earlier.id).status not in ("pending", "failed"), clinic.get(earlier.id).notes
    start = date.today() + timedelta(days=90)
    later = f"service from: {start}\nservice to: {start + timedelta(days=30)}\n"
    data = re.sub(r"service from: .*\nservice to: .*\n", later, task_data.authorization(payer))
    assert later in data
    task = clinic.create("submit_prior_authorization", data)

    async def crash_before_the_click(ctx: StepContext) -> None:
        raise RuntimeError("crashed after the mark, before the click")

    clinic.run(portals=replacing(payer, "submit_prior_authorization", crash_before_the_click))
    clinic.make_due(task.id)
    clinic.run()
    review = clinic.get(task.id)
    assert review.status == "pending_review" and review.review_step == "reconcile", review.notes
    assert len(clinic.portal.submissions(payer=payer, kind="prior_auth")) == 1  # the earlier one only
