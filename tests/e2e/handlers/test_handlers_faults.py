"""What portals throw at automation, end to end: 5xx and maintenance (retried, with the portal's
Retry-After), a refused password (stopped before a lockout), a CAPTCHA (handed to a person), a
session that ends in the middle of a task, a reused session, the drift seed, the review gate."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest

from handlers.context import StepContext
from tests.e2e.handlers import task_data
from tests.e2e.handlers.conftest import Clinic, with_hook

IDLE_TIMEOUT = 900  # the mock's default


def utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def test_server_errors_are_retried_then_succeed(clinic: Clinic, payer: str) -> None:
    clinic.add_login(payer)
    task = clinic.create("check_eligibility", task_data.eligibility(payer))
    clinic.portal.set_knobs(error_rate=1.0)
    clinic.run()
    waiting = clinic.get(task.id)
    assert waiting.status == "pending", waiting.notes
    assert "server error" in (waiting.notes or "") and "retrying" in (waiting.notes or "")
    clinic.portal.set_knobs(error_rate=0.0)
    clinic.make_due(task.id)
    clinic.run()
    done = clinic.get(task.id)
    assert done.status == "completed", done.notes
    assert done.attempts == 2


def test_maintenance_waits_as_long_as_the_portal_asks(clinic: Clinic, payer: str) -> None:
    clinic.add_login(payer)
    task = clinic.create("submit_claim", task_data.claim(payer))
    clinic.portal.set_knobs(maintenance=True)
    clinic.run()
    waiting = clinic.get(task.id)
    assert waiting.status == "pending", waiting.notes
    assert "down for maintenance" in (waiting.notes or "")
    assert waiting.run_after is not None and waiting.submit_attempted_at is None
    # Retry-After: 3600 on the maintenance page beats the SOP's 60 s first backoff.
    assert utc(waiting.run_after) - utc(waiting.updated_at) >= timedelta(minutes=59)
    clinic.portal.set_knobs(maintenance=False)
    clinic.make_due(task.id)
    clinic.run()
    assert clinic.get(task.id).status == "completed"
    assert len(clinic.portal.submissions(payer=payer, kind="claim")) == 1


def test_rate_limit_is_a_pause_not_a_failure(clinic: Clinic) -> None:
    clinic.add_login("acme")
    task = clinic.create("check_eligibility", task_data.eligibility("acme"))
    clinic.portal.set_knobs(rate_limit_per_minute=2)
    clinic.run()
    waiting = clinic.get(task.id)
    assert waiting.status == "pending", waiting.notes
    assert "limiting requests" in (waiting.notes or "")


def test_wrong_password_stops_the_login_before_a_lockout(clinic: Clinic, payer: str) -> None:
    login = clinic.add_login(payer, password="not-the-password")
    tasks = [clinic.create("check_eligibility", task_data.eligibility(payer)) for _ in range(3)]
    clinic.run(concurrency=1)
    for task in tasks:
        done = clinic.get(task.id)
        assert done.status == "failed", done.notes
    first, _second, third = (clinic.get(t.id).notes or "" for t in tasks)
    assert first.startswith("The portal refused the login:")
    assert "stopped after repeated refused logins" in third
    assert clinic.credential(login.id).disabled_at is not None
    user = clinic.portal.user(payer)
    assert user["locked"] is False and user["failed_logins"] == 2


def test_captcha_goes_to_a_person(clinic: Clinic, payer: str) -> None:
    clinic.add_login(payer)
    task = clinic.create("check_eligibility", task_data.eligibility(payer))
    clinic.portal.set_knobs(captcha="always")
    clinic.run()
    review = clinic.get(task.id)
    assert review.status == "pending_review", review.notes
    assert "CAPTCHA" in (review.notes or "")
    assert clinic.portal.submissions() == []


def test_session_ending_mid_task_signs_in_again_and_submits_once(
    clinic: Clinic, payer: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="sopwright.steps")
    clinic.add_login(payer)
    task = clinic.create("submit_claim", task_data.claim(payer))

    async def idle_out(ctx: StepContext) -> None:  # the filled form sat open past the idle timeout
        await asyncio.to_thread(clinic.portal.advance_clock, IDLE_TIMEOUT + 60)

    clinic.run(portals=with_hook(payer, "fill_claim", idle_out))
    done = clinic.get(task.id)
    assert done.status == "completed", done.notes
    assert any("before the claim was taken" in r.getMessage() for r in caplog.records)
    [sent] = clinic.portal.submissions(payer=payer, kind="claim")
    assert sent["identifiers"] == {"claim_number": (done.result or {})["claim_number"]}


def loads_since(clinic: Clinic, seen: int) -> list[tuple[str, str]]:
    """The browser's page loads (method, path; every redirect hop) since the `seen`-th."""
    return [(load["method"], load["path"]) for load in clinic.portal.page_loads()[seen:]]


# What a hand-written script loads to submit a claim on a signed-in session, and nothing more.
CLAIM_LOADS = {
    "acme": [("GET", "/acme/claims/new"), ("POST", "/acme/claims/new")],
    "beacon": [
        ("GET", "/beacon/workspace/claims"),
        ("GET", "/beacon/app/claims/new"),
        ("POST", "/beacon/app/claims/new"),
    ],
}


def test_a_stored_session_is_reused_by_the_next_task_without_a_page_load(
    clinic: Clinic, payer: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="sopwright.steps")
    login = clinic.add_login(payer)
    first = clinic.create("check_eligibility", task_data.eligibility(payer, npi="2000000010"))
    clinic.run()
    # Without a stored session the login signs in at once (no detour through a signed-in page).
    assert loads_since(clinic, 0)[:2] == [("GET", f"/{payer}/login"), ("POST", f"/{payer}/login")]
    assert clinic.system.credentials.saved_session(clinic.credential(login.id), 0) is not None
    seen = len(clinic.portal.page_loads())
    second = clinic.create("submit_claim", task_data.claim(payer))
    clinic.run()
    assert clinic.get(first.id).status == clinic.get(second.id).status == "completed"
    assert loads_since(clinic, seen) == CLAIM_LOADS[payer]
    logins = [r.getMessage() for r in caplog.records if r.getMessage().startswith("login:")]
    assert logins == ["login: signed in", "login: stored session kept for the first screen"]


def test_expired_stored_session_signs_in_again(
    clinic: Clinic, payer: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="sopwright.steps")
    clinic.add_login(payer)
    first = clinic.create("check_eligibility", task_data.eligibility(payer, npi="2000000010"))
    clinic.run()
    clinic.portal.advance_clock(IDLE_TIMEOUT + 60)
    seen = len(clinic.portal.page_loads())
    second = clinic.create("submit_claim", task_data.claim(payer))
    clinic.run()
    assert clinic.get(first.id).status == clinic.get(second.id).status == "completed"
    assert clinic.get(second.id).attempts == 1
    # The claim form's load found the session ended: signed in there, then the form again.
    loads = loads_since(clinic, seen)
    assert loads[0] == CLAIM_LOADS[payer][0] and ("POST", f"/{payer}/login") in loads
    assert loads[-len(CLAIM_LOADS[payer]) :] == CLAIM_LOADS[payer]
    logins = [r.getMessage() for r in caplog.records if r.getMessage().startswith("login:")]
    assert logins == [
        "login: signed in",
        "login: stored session kept for the first screen",
        "login: signed in",
    ]
    [sent] = clinic.portal.submissions(payer=payer, kind="claim")
    assert sent["identifiers"] == {"claim_number": (clinic.get(second.id).result or {})["claim_number"]}


def test_drift_seed_changes_nothing_for_the_scripts(clinic: Clinic, payer: str) -> None:
    clinic.add_login(payer)
    clinic.portal.set_knobs(drift_seed=7)
    claim = clinic.create("submit_claim", task_data.claim(payer, charges=("100.00", "40.00")))
    auth = clinic.create(
        "submit_prior_authorization", task_data.authorization(payer), files=("clinical_notes.pdf",)
    )
    clinic.run()
    for task in (claim, auth):
        done = clinic.get(task.id)
        assert done.status == "completed", done.notes


def test_review_gate_then_approve_completes(clinic: Clinic, payer: str) -> None:
    clinic.add_login(payer)
    task = clinic.create("submit_claim", task_data.claim(payer, charges=("3000.00", "2500.00")))
    clinic.run()
    gated = clinic.get(task.id)
    assert gated.status == "pending_review" and gated.review_step == "submit", gated.notes
    assert clinic.portal.submissions(kind="claim") == []
    clinic.approve(task.id)
    clinic.run()
    done = clinic.get(task.id)
    assert done.status == "completed", done.notes
    [sent] = clinic.portal.submissions(payer=payer, kind="claim")
    assert sent["fields"]["total_charge"] == "5500.00"


def test_idle_warning_mid_step_keeps_the_session(
    clinic: Clinic, payer: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The "are you still there?" modal covers the form a second after it loads; the scripts
    answer "stay signed in" when it is in the way, and the task goes through."""
    caplog.set_level(logging.INFO, logger="sopwright.steps")
    clinic.add_login(payer)
    # The modal comes up 20 s after each sign of activity: it interrupts the form (the hook below
    # waits for it). Pages loaded after that warn only after four idle minutes, so a loaded machine
    # meets the modal on this one form, as often as it is slow there, and not on every page after.
    clinic.portal.set_knobs(idle_timeout_seconds=300, idle_warning_seconds=280)
    task = clinic.create("submit_claim", task_data.claim(payer))

    async def linger(ctx: StepContext) -> None:  # a clerk-slow form: wait until the modal is up
        await ctx.page.get_by_test_id("idle-modal").wait_for(state="visible", timeout=90_000)
        await asyncio.to_thread(clinic.portal.set_knobs, idle_warning_seconds=60)

    clinic.run(portals=with_hook(payer, "open_claim_form", linger))
    done = clinic.get(task.id)
    assert done.status == "completed", done.notes
    assert "idle warning answered: stayed signed in" in [r.getMessage() for r in caplog.records]


def test_a_payer_lookup_that_fails_is_retried_not_asked_about(clinic: Clinic) -> None:
    """Beacon's typeahead shows the same empty list when its lookup fails as when nothing
    matches: a session that ended under the open form is a retry, not a question for the client."""
    clinic.add_login("beacon")
    task = clinic.create("check_eligibility", task_data.eligibility("beacon"))

    async def idle_out(ctx: StepContext) -> None:  # the form sat open past the idle timeout
        await asyncio.to_thread(clinic.portal.advance_clock, IDLE_TIMEOUT + 60)

    clinic.run(portals=with_hook("beacon", "open_eligibility_search", idle_out))
    retried = clinic.get(task.id)
    assert retried.status == "pending", retried.notes
    assert "signed the session out during the payer lookup" in (retried.notes or "")
    clinic.make_due(retried.id)
    clinic.run()
    done = clinic.get(task.id)
    assert done.status == "completed", done.notes
