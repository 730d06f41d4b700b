"""What an attempt leaves behind besides its status, on the fake browser (SQLite and PostgreSQL):
the login's session saved and restored (and dropped when it expired), the trace of a failed
attempt kept and redacted, a warm context for the next task of the login only after a good
attempt, and the SOP the task was created with run even after the account installed another."""

from __future__ import annotations

import asyncio
import json
import zipfile
from dataclasses import replace

import pytest
import yaml
from sqlmodel import select

from handlers.context import StepContext
from handlers.errors import PortalChanged, SessionExpired
from handlers.fake import FakePortal
from runner.core.db import session_scope
from runner.core.fake_browser import FakeBrowser, session_of
from runner.core.runtime import build_executor
from runner.core.settings import Settings
from runner.core.system import System
from runner.core.tables import Account, PortalCredential, SavedSession, Trajectory
from runner.core.worker import Worker
from sops.schema import Sop
from sops.types import TaskType
from tests.support.threaded import run_async
from tests.unit.runner.scripted import CLAIM_STEPS, PASSWORD, account_with_login, claim, reload, run_worker


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"trace": "on-failure", "poll_scale": 0.0})


def stored_session(system: System, slot: int = 0) -> object:
    with session_scope(system.engine, readonly=True) as session:
        row = session.exec(select(PortalCredential)).one()
    state = system.credentials.saved_session(row, slot)
    return json.loads(state) if state else None


def test_a_good_attempts_session_is_stored_and_the_next_attempt_starts_from_it(system: System) -> None:
    account = account_with_login(system)
    first, second = claim(system, account), claim(system, account)
    browser = run_worker(system, FakePortal(), concurrency=1)
    assert [reload(system, t.id).status for t in (first, second)] == ["completed"] * 2
    assert browser.opened[0].restored_from is None  # no session yet: a fresh sign-in
    assert browser.opened[1].restored_from == session_of(1)  # the first attempt's session
    assert stored_session(system) == session_of(2)


def test_an_expired_session_is_dropped_and_the_task_retried(system: System) -> None:
    account = account_with_login(system)
    system.credentials.save_session(
        system.credentials.for_payer(account.id, "fake", names={"fake": "Fake Payer"}).id,
        0,
        json.dumps(session_of(99)),
    )
    task = claim(system, account)
    browser = run_worker(system, FakePortal(script={"open_claim_form": [SessionExpired("Signed out.")]}))
    assert browser.opened[0].restored_from == session_of(99)
    assert reload(system, task.id).status == "pending"
    assert stored_session(system) is None


def test_a_failed_attempts_trace_is_kept_redacted_and_linked(system: System) -> None:
    account = account_with_login(system)
    task = claim(system, account)
    run_worker(system, FakePortal(script={"fill_claim": [PortalChanged("The form changed.")]}))
    with session_scope(system.engine, readonly=True) as session:
        trajectory = session.exec(select(Trajectory).where(Trajectory.task_id == task.id)).one()
    assert trajectory.trace_path is not None and trajectory.outcome == "pending"
    with zipfile.ZipFile(system.artifacts.resolve(trajectory.trace_path)) as trace:
        text = trace.read("trace.trace").decode()
    assert 'name=\\"password\\"' in text and PASSWORD not in text  # the sign-in page, redacted


def test_a_good_attempt_leaves_no_trace_on_failure_mode(system: System) -> None:
    account = account_with_login(system)
    task = claim(system, account)
    run_worker(system, FakePortal())
    with session_scope(system.engine, readonly=True) as session:
        trajectory = session.exec(select(Trajectory).where(Trajectory.task_id == task.id)).one()
    assert trajectory.trace_path is None


def test_the_next_task_of_the_login_gets_the_warm_context_after_a_good_attempt_only(system: System) -> None:
    """One worker pass, one task at a time: a failed attempt's context is closed, a good one's is
    parked and the next task of the same login gets it, another account's task never does."""
    account = account_with_login(system)
    other = account_with_login(system, name="Other clinic")
    tasks = [claim(system, account) for _ in range(3)] + [claim(system, other)]
    browser = FakeBrowser(warm_seconds=600)
    run_worker(
        system,
        FakePortal(script={"login": [PortalChanged("No sign-in form."), None]}),
        browser=browser,
        concurrency=1,
    )
    assert [reload(system, t.id).status for t in tasks] == ["pending", "completed", "completed", "completed"]
    # Contexts: 1 for the failed attempt (closed), 2 for the second task (parked), reused by the
    # third, and 3 for the other account's task.
    assert len(browser.opened) == 3 and browser.reused == 1
    assert browser.parked == 0 and browser.in_use == 0  # the worker stopped its browser


def two_at_once(
    system: System, account: Account, browser: FakeBrowser, portal: FakePortal | None = None
) -> None:
    """Two tasks of the account's login, both holding a session of it at once."""
    tasks = [claim(system, account), claim(system, account)]
    both_started = asyncio.Barrier(2)
    portal = portal or FakePortal()
    handler = portal.handler(CLAIM_STEPS)
    login = handler.scripts["login"]

    async def sign_in(ctx: StepContext) -> None:  # both attempts hold a session before either goes on
        await asyncio.wait_for(both_started.wait(), timeout=60)
        await login(ctx)

    handler = replace(handler, scripts={**handler.scripts, "login": sign_in})
    executor = build_executor(system, portals={portal.key: handler})
    worker = Worker(system.queue, executor, browser, concurrency=2, poll_interval=0.05)
    run_async(lambda: worker.run(once=True))
    assert [reload(system, t.id).status for t in tasks] == ["completed"] * 2


def test_two_attempts_at_once_never_share_a_portal_session(system: System) -> None:
    """A login allowed 2 sessions, two tasks at once: one restores slot 0's saved session, the
    other starts signed out in a context of its own (slot 1), and each slot's session is saved
    apart: neither overwrites the other's. (Two tabs on one portal session: a second wizard resets
    the first's.) The next two at once, in new contexts, restore one slot's session each."""
    account = account_with_login(system)
    login = system.credentials.for_payer(account.id, "fake", names={"fake": "Fake Payer"})
    system.credentials.save_session(login.id, 0, json.dumps(session_of(99)))
    browser = FakeBrowser(warm_seconds=0)
    two_at_once(system, account, browser)
    [stored] = [c for c in browser.opened if c.restored_from == session_of(99)]
    [fresh] = [c for c in browser.opened if c.restored_from is None]
    assert stored_session(system, 0) == session_of(stored.number)
    assert stored_session(system, 1) == session_of(fresh.number)

    browser = FakeBrowser(warm_seconds=0)
    two_at_once(system, account, browser)
    restored = sorted(c.restored_from["cookies"][0]["value"] for c in browser.opened)  # type: ignore[index]
    assert restored == sorted(session_of(c.number)["cookies"][0]["value"] for c in (stored, fresh))


def test_an_expired_session_is_forgotten_for_its_slot_only(system: System) -> None:
    account = account_with_login(system)
    login = system.credentials.for_payer(account.id, "fake", names={"fake": "Fake Payer"})
    for slot in (0, 1):
        system.credentials.save_session(login.id, slot, json.dumps(session_of(90 + slot)))
    task = claim(system, account)
    browser = run_worker(system, FakePortal(script={"open_claim_form": [SessionExpired("Signed out.")]}))
    assert browser.opened[0].restored_from == session_of(90)  # one task: slot 0
    assert reload(system, task.id).status == "pending"
    assert (stored_session(system, 0), stored_session(system, 1)) == (None, session_of(91))


def test_a_slots_session_does_not_open_as_another_slots(system: System) -> None:
    """Each slot's saved session is sealed to its login and its slot: one copied to another slot
    (or another login) does not decrypt, and that slot's attempt signs in instead."""
    account = account_with_login(system)
    login = system.credentials.for_payer(account.id, "fake", names={"fake": "Fake Payer"})
    system.credentials.save_session(login.id, 1, json.dumps(session_of(91)))
    with session_scope(system.engine) as session:
        sealed = session.get(SavedSession, (login.id, 1))
        assert sealed is not None
        session.add(SavedSession(credential_id=login.id, slot=2, storage_state_enc=sealed.storage_state_enc))
    assert system.credentials.saved_session(login, 2) is None
    assert stored_session(system, 1) == session_of(91)


def test_a_login_saved_again_forgets_every_slots_session(system: System) -> None:
    account = account_with_login(system)
    login = system.credentials.for_payer(account.id, "fake", names={"fake": "Fake Payer"})
    for slot in (0, 1):
        system.credentials.save_session(login.id, slot, json.dumps(session_of(90 + slot)))
    system.credentials.forget_sessions(login.id)
    assert (stored_session(system, 0), stored_session(system, 1)) == (None, None)


def test_a_task_runs_the_sop_it_was_created_with(system: System) -> None:
    account = account_with_login(system)
    task = claim(system, account)
    source = system.sops.library.get(TaskType.SUBMIT_CLAIM)
    # The account installs a new version after the task was created: the task keeps its own.
    override = source.model_copy(update={"version": 9, "steps": source.steps[:2]})
    system.sops.install(account.id, override_yaml(override), source="override.yaml")
    portal = FakePortal(script={"capture_claim_number": [{"claim_number": "FK0000000009"}]})
    run_worker(system, portal)
    done = reload(system, task.id)
    assert done.status == "completed" and done.sop_version == 1 and done.handler == "submit_claim_1"
    assert portal.calls["capture_claim_number"] == 1
    newer = claim(system, account)
    assert (newer.sop_version, newer.sop_source) == (9, "account")
    run_worker(system, portal)
    assert reload(system, newer.id).sop_version == 9
    assert portal.calls["submit_claim"] == 1  # version 9 stops before the submit


def override_yaml(sop: Sop) -> str:
    return yaml.safe_dump(sop.model_dump(mode="json"), sort_keys=False)
