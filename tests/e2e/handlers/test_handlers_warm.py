"""Warm contexts: a task that ended well leaves its signed-in browser context to the next task of
the same account and login, and to nobody else; nothing of one task reaches the next one's pages,
screenshots or result; a failed task's context is not kept."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator

import pytest

from handlers.context import StepContext
from runner.core.egress import EgressGate
from runner.core.system import System
from tests.e2e.handlers import task_data
from tests.e2e.handlers.conftest import Clinic, KeptBrowser, with_hook
from tests.support.portal_server import MockPortalAdmin

DRAFT = "draft-of-the-last-patient"


async def leave_a_draft(ctx: StepContext) -> None:
    """A portal that keeps a form draft in page storage."""
    await ctx.page.evaluate(f"() => localStorage.setItem('draft', '{DRAFT}')")


def looking_around(seen: list[dict[str, object]]) -> Callable[[StepContext], Awaitable[None]]:
    """A hook that notes how many pages the task's context has and what draft its page holds."""

    async def look_around(ctx: StepContext) -> None:
        seen.append(
            {
                "pages": len(ctx.page.context.pages),
                "draft": await ctx.page.evaluate("() => localStorage.getItem('draft')"),
            }
        )

    return look_around


@pytest.fixture
def browser(system: System) -> KeptBrowser:
    return KeptBrowser(EgressGate(system.destinations), warm_seconds=600)


@pytest.fixture
def clinic(system: System, portal: MockPortalAdmin, browser: KeptBrowser) -> Iterator[Clinic]:
    clinic = Clinic(system, portal, system.accounts.create("Warm Clinic").account, browser=browser)
    yield clinic
    clinic.close()


def test_the_next_task_of_the_login_gets_the_warm_context_without_the_last_ones_data(
    clinic: Clinic, browser: KeptBrowser
) -> None:
    clinic.add_login("acme")
    seen: list[dict[str, object]] = []
    look_around = looking_around(seen)
    first = clinic.create("check_eligibility", task_data.eligibility("acme"))
    clinic.run(concurrency=1, portals=with_hook("acme", "open_eligibility_search", leave_a_draft))
    assert clinic.get(first.id).status == "completed"
    assert browser.parked == 1 and browser.in_use == 0

    second = clinic.create("check_eligibility", task_data.eligibility("acme"))
    before = len(clinic.portal.page_loads())
    clinic.run(concurrency=1, portals=with_hook("acme", "open_eligibility_search", look_around))
    done = clinic.get(second.id)
    assert done.status == "completed", done.notes
    assert browser.parked == 1
    # The warm context was signed in (no sign-in page), but the task had a page of its own and
    # none of the last task's storage.
    assert seen == [{"pages": 1, "draft": None}]
    loads = clinic.portal.page_loads()[before:]
    assert loads and not [load for load in loads if "login" in load["path"]], loads
    assert (done.result or {})["coverage_status"] == "active"
    assert done.trajectory_id != clinic.get(first.id).trajectory_id


def test_another_account_or_login_never_gets_it(
    clinic: Clinic, browser: KeptBrowser, system: System, portal: MockPortalAdmin
) -> None:
    clinic.add_login("acme")
    first = clinic.create("check_eligibility", task_data.eligibility("acme"))
    clinic.run(concurrency=1)
    assert clinic.get(first.id).status == "completed" and browser.parked == 1

    # Another account on the same worker (its loop, its browser).
    account = system.accounts.create("Other Clinic").account
    other = Clinic(system, portal, account, loop=clinic.loop, browser=browser)
    other.add_login("acme")
    before = len(clinic.portal.page_loads())
    task = other.create("check_eligibility", task_data.eligibility("acme"))
    other.run(concurrency=1)
    assert other.get(task.id).status == "completed"
    # A new context: it had to sign in itself.
    assert [load for load in clinic.portal.page_loads()[before:] if "login" in load["path"]]
    assert browser.parked == 2  # one warm context per account's login


def test_a_failed_task_leaves_no_warm_context(clinic: Clinic, browser: KeptBrowser) -> None:
    clinic.add_login("acme")
    task = clinic.create("check_eligibility", task_data.eligibility("acme", task_data.NOBODY))
    clinic.run(concurrency=1)
    assert clinic.get(task.id).status == "failed"
    assert browser.parked == 0 and browser.in_use == 0


def test_a_context_parked_without_its_page_serves_the_next_task_signed_in(
    system: System, portal: MockPortalAdmin
) -> None:
    """No page budget left (`max_pages=0`): the parked context closes its page (its renderer
    process goes) and stays signed in; the next task of the login opens a page in it, with none
    of the last task's storage."""
    browser = KeptBrowser(EgressGate(system.destinations), warm_seconds=600, max_pages=0)
    clinic = Clinic(system, portal, system.accounts.create("Lean Clinic").account, browser=browser)
    try:
        clinic.add_login("acme")
        seen: list[dict[str, object]] = []
        look_around = looking_around(seen)
        first = clinic.create("check_eligibility", task_data.eligibility("acme"))
        clinic.run(concurrency=1, portals=with_hook("acme", "open_eligibility_search", leave_a_draft))
        assert clinic.get(first.id).status == "completed"
        assert browser.parked == 1 and browser.parked_pages == 0 and browser.in_use == 0

        second = clinic.create("check_eligibility", task_data.eligibility("acme"))
        before = len(clinic.portal.page_loads())
        clinic.run(concurrency=1, portals=with_hook("acme", "open_eligibility_search", look_around))
        done = clinic.get(second.id)
        assert done.status == "completed", done.notes
        assert seen == [{"pages": 1, "draft": None}]
        loads = clinic.portal.page_loads()[before:]
        assert loads and not [load for load in loads if "login" in load["path"]], loads
        assert browser.parked == 1 and browser.parked_pages == 0
    finally:
        clinic.close()
