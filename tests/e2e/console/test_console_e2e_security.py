"""The console's guards in Chromium: CSRF, account isolation, roles, lockout; and one task answered
in the console and then run by the real handlers against the mock portal."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from handlers.fake import FakePortal
from runner.core.operators import MAX_FAILED_SIGN_INS, WRONG_CREDENTIALS, Role
from runner.core.runtime import build_worker
from tests.e2e.console.conftest import Desk
from tests.e2e.handlers.task_data import HAPPY, eligibility
from tests.support.portal_server import MockPortalAdmin
from tests.support.threaded import run_async


def test_a_form_with_a_forged_token_is_refused(desk: Desk) -> None:
    task = desk.claim()
    desk.sign_in(desk.add("rita@example.test", Role.REVIEWER))
    desk.go(f"/tasks/{task}")
    page = desk.page
    page.evaluate("document.querySelectorAll('input[name=csrf_token]').forEach(i => i.value = 'forged')")
    page.get_by_text("Cancel task…").click()
    page.get_by_role("button", name="Cancel task #1").click()
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    expect(page.get_by_test_id("error-message")).to_contain_text("did not come from this console")
    desk.shot("csrf-refused")
    assert desk.status(task) == "pending"


def test_a_cross_site_form_is_refused(desk: Desk, portal_url: str) -> None:
    """A page on another origin (the mock portal's) posts to the console with the victim's cookie."""
    task = desk.claim()
    desk.sign_in(desk.add("rita@example.test", Role.REVIEWER))
    page = desk.page
    page.goto(portal_url)
    page.evaluate(
        """(action) => {
            const form = document.createElement('form');
            form.method = 'post'; form.action = action;
            const token = document.createElement('input');
            token.name = 'csrf_token'; token.value = 'unknown-to-the-attacker';
            form.appendChild(token); document.body.appendChild(form); form.submit();
        }""",
        f"{desk.url}/tasks/{task}/cancel",
    )
    expect(page.get_by_role("heading", name=re.compile("Not allowed|sopwright console"))).to_be_visible()
    assert desk.status(task) == "pending"


def test_another_accounts_task_is_not_reachable_by_url(desk: Desk) -> None:
    other = desk.system.accounts.create("Other clinic").account
    theirs = desk.system.tasks.create(other, type="check_eligibility", data="member id: X", actor="api:other")
    desk.sign_in(desk.add("rita@example.test", Role.REVIEWER))
    desk.go(f"/tasks/{theirs.id}")
    expect(desk.page.get_by_role("heading", name="Not found")).to_be_visible()
    expect(desk.page.get_by_test_id("error-message")).to_have_text("No task with this id.")
    desk.shot("not-found")
    desk.go("/tasks")
    expect(desk.page.get_by_test_id("task-row")).to_have_count(0)


def test_a_viewer_cannot_approve(desk: Desk) -> None:
    task = desk.big_claim()
    desk.run_worker(FakePortal())
    assert desk.status(task) == "pending_review"
    desk.sign_in(desk.add("victor@example.test", Role.VIEWER))
    page = desk.page
    desk.go("/review")
    card = page.get_by_test_id("review-card")
    expect(card).to_have_count(1)
    expect(card.get_by_role("button", name="Approve and continue")).to_have_count(0)
    desk.shot("review-queue-viewer")
    # Even a hand-made form with the viewer's own valid token is refused.
    page.evaluate(
        """(action) => {
            const form = document.createElement('form');
            form.method = 'post'; form.action = action;
            for (const [name, value] of [['decision', 'approve'],
                 ['csrf_token', document.querySelector('input[name=csrf_token]').value]]) {
                const input = document.createElement('input');
                input.name = name; input.value = value; form.appendChild(input);
            }
            document.body.appendChild(form); form.submit();
        }""",
        f"{desk.url}/tasks/{task}/review",
    )
    expect(page.get_by_test_id("error-message")).to_contain_text("Your role (viewer) cannot review tasks")
    assert desk.status(task) == "pending_review"


def test_lockout_after_repeated_wrong_passwords(desk: Desk) -> None:
    email = desk.add("rita@example.test", Role.REVIEWER)
    for _ in range(MAX_FAILED_SIGN_INS):
        desk.sign_in(email, "not my password", refused=True)
        expect(desk.page.get_by_test_id("signin-error")).to_have_text(WRONG_CREDENTIALS)
    desk.sign_in(email, refused=True)  # the right password, during the lockout
    # The same answer as an unknown e-mail's: the page does not tell which logins exist or are
    # locked, but it says what a lockout is.
    expect(desk.page.get_by_test_id("signin-error")).to_have_text(WRONG_CREDENTIALS)
    expect(desk.page.get_by_test_id("signin-error")).to_contain_text("locked for 15 minutes")
    desk.shot("lockout")


def test_sign_out(desk: Desk) -> None:
    desk.sign_in(desk.add("rita@example.test", Role.REVIEWER))
    desk.page.get_by_role("button", name="Sign out").click()
    expect(desk.page.get_by_role("heading", name="sopwright console")).to_be_visible()
    desk.go("/tasks")
    expect(desk.page).to_have_url(re.compile(r"/console/signin\?next=%2Ftasks$"))


def test_supply_input_then_the_real_handlers_complete_it_on_the_mock_portal(
    desk: Desk, portal: MockPortalAdmin
) -> None:
    user = portal.user("acme")
    base = next(p["base_path"] for p in portal.payers() if p["key"] == "acme")
    desk.system.credentials.add(
        desk.account.id,
        payer="acme",
        url=portal.base_url + base,
        username=user["username"],
        password=user["password"],
        totp_secret=user["totp_secret"],
    )
    data = "\n".join(
        line for line in eligibility("acme").splitlines() if not line.startswith("date of birth")
    )
    task = desk.system.tasks.create(desk.account, type="check_eligibility", data=data, actor="api:demo")
    assert task.status == "waiting_for_input"
    desk.sign_in(desk.add("rita@example.test", Role.REVIEWER))
    desk.go("/input")
    card = desk.page.get_by_test_id("input-card")
    card.get_by_label("Date of birth").fill(HAPPY.dob)
    card.get_by_role("button", name="Send and requeue").click()
    expect(desk.page.get_by_test_id("flash")).to_contain_text("back in the queue")
    desk.go(f"/tasks/{task.id}")
    worker = build_worker(desk.system, poll_interval=0.05)  # the real handlers of every portal
    run_async(lambda: worker.run(once=True))
    expect(desk.page.locator("h1").get_by_test_id("status")).to_have_text("completed")
    expect(desk.page.get_by_test_id("step").first.get_by_role("img")).to_be_attached()
    desk.shot("task-mock-portal")
    assert portal.submissions(payer="acme", kind="eligibility")
