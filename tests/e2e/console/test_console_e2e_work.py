"""The console in Chromium: an operator signs in, reads tasks and works both queues."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from handlers.errors import InputProblem, NeedsInput
from handlers.fake import FakePortal
from runner.core.operators import Role
from runner.core.webhooks.receiver import Receiver
from tests.e2e.console.conftest import Desk


def test_sign_in_and_see_the_task_list(desk: Desk) -> None:
    done = desk.claim()
    desk.run_worker()  # the claim completes; its follow-up, a status check, waits as #2
    waiting = desk.system.tasks.create(
        desk.account, type="check_eligibility", data="member id: X", actor="api:demo"
    )
    desk.claim()  # still pending
    reviewer = desk.add("rita@example.test", Role.REVIEWER)
    desk.go("/signin")
    desk.shot("signin")
    desk.sign_in(reviewer)
    page = desk.page
    expect(page.get_by_role("heading", name="Tasks")).to_be_visible()
    rows = page.get_by_test_id("task-row")
    expect(rows).to_have_count(4)
    expect(rows.first).to_contain_text("Submit claim #4")  # newest first
    expect(rows.filter(has_text="Check claim status #2").get_by_test_id("status")).to_have_text("pending")
    expect(page.get_by_test_id("count-completed")).to_contain_text("1")
    expect(page.get_by_test_id("count-waiting_for_input")).to_contain_text("1")
    expect(page.get_by_test_id("nav-input-count")).to_have_text("1")
    expect(page.get_by_text("Tasks are running: this list refreshes itself.")).to_be_visible()
    desk.shot("tasks")
    # Filters and search by number (keyboard: "/" jumps to the search box).
    page.keyboard.press("/")
    page.keyboard.type("3")
    page.keyboard.press("Enter")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Check eligibility #3")
    page.get_by_role("link", name="Clear").click()
    page.get_by_label("Status", exact=True).select_option("completed")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)
    rows.first.get_by_role("link").click()
    number = desk.system.tasks.get(desk.account.id, done)[0].public_id  # the id in console URLs
    expect(page).to_have_url(re.compile(f"/tasks/{number}$"))
    assert waiting.status == "waiting_for_input"


def test_the_list_refreshes_itself_while_tasks_run(desk: Desk) -> None:
    task = desk.claim()
    desk.sign_in(desk.add("rita@example.test", Role.VIEWER))
    # By its number: the claim's follow-up comes in above it when the claim completes.
    row = desk.page.get_by_test_id("task-row").filter(has_text="Submit claim #1")
    expect(row.get_by_test_id("status")).to_have_text("pending")
    desk.run_worker()
    expect(row.get_by_test_id("status")).to_have_text("completed")  # no reload: the page fetched it
    assert desk.status(task) == "completed"


def test_a_narrow_window_keeps_the_list_readable(desk: Desk) -> None:
    for _ in range(3):
        desk.claim()
    desk.page.set_viewport_size({"width": 390, "height": 844})
    desk.sign_in(desk.add("rita@example.test", Role.REVIEWER))
    expect(desk.page.get_by_test_id("task-row")).to_have_count(3)
    width = desk.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways ({width}px)"
    desk.shot("tasks-narrow")


def test_open_a_task_with_its_screenshots_and_trace(desk: Desk) -> None:
    task = desk.claim()
    desk.run_worker()
    desk.sign_in(desk.add("rita@example.test", Role.REVIEWER))
    desk.go(f"/tasks/{task}")
    page = desk.page
    expect(page.get_by_role("heading", level=1)).to_contain_text("Submit claim #1")
    expect(page.locator("h1").get_by_test_id("status")).to_have_text("completed")
    expect(page.get_by_test_id("notes")).to_have_text("Claim submitted with reference FK0000000001.")
    steps = page.get_by_test_id("step")
    expect(steps).to_have_count(5)
    expect(page.get_by_test_id("trace-link")).to_be_visible()
    expect(page.get_by_text("playwright show-trace trace.zip")).to_be_visible()
    expect(page.get_by_test_id("timeline")).to_contain_text("by api:demo")
    first_shot = steps.first.get_by_role("img")
    first_shot.scroll_into_view_if_needed()
    expect(first_shot).to_be_visible()
    page.wait_for_function("(img) => img.complete", arg=first_shot.element_handle())
    assert page.evaluate("(img) => img.naturalWidth", first_shot.element_handle()) > 0
    desk.shot("task")
    steps.first.get_by_role("link", name=re.compile("Enlarge")).click()
    dialog = page.locator("dialog#enlarge")
    expect(dialog).to_be_visible()
    desk.shot("task-enlarged", full_page=False)
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    with page.expect_download() as download:
        page.get_by_test_id("trace-link").click()
    assert download.value.suggested_filename.endswith(".zip")


def test_supply_missing_input_and_watch_the_task_complete(desk: Desk) -> None:
    wrong = NeedsInput(
        "The payer says the date of birth does not match its records.",
        problems=[InputProblem("date_of_birth", "does not match the payer's records")],
    )
    portal = FakePortal(
        script={"fill_claim": [wrong, None], "capture_claim_number": [{"claim_number": "FK7"}]}
    )
    task = desk.claim()
    desk.run_worker(portal)
    assert desk.status(task) == "waiting_for_input"
    desk.sign_in(desk.add("rita@example.test", Role.REVIEWER))
    page = desk.page
    page.get_by_role("link", name=re.compile("^Input")).click()
    card = page.get_by_test_id("input-card")
    expect(card).to_have_count(1)
    expect(card).to_contain_text("does not match the payer's records")
    box = card.get_by_label("Date of birth")
    expect(box).to_have_value("1986-04-12")  # what was sent, to correct
    desk.shot("input-queue")
    box.fill("1985-06-15")
    card.get_by_role("button", name="Send and requeue").click()
    expect(page.get_by_test_id("flash")).to_contain_text("is back in the queue")
    expect(page.get_by_text("Nothing is waiting for input.")).to_be_visible()
    desk.go(f"/tasks/{task}")
    expect(page.locator("h1").get_by_test_id("status")).to_have_text("pending")
    with page.expect_download() as download:  # the page where the first attempt stopped
        page.get_by_test_id("html-link").click()
    assert download.value.suggested_filename == "02-fill.html"
    desk.run_worker(portal)
    expect(page.locator("h1").get_by_test_id("status")).to_have_text("completed")  # the page refreshed
    expect(page.get_by_test_id("timeline")).to_contain_text("by operator:rita@example.test")
    desk.shot("task-completed-after-input")


def test_approve_a_review(desk: Desk) -> None:
    task = desk.big_claim()
    portal = FakePortal(script={"capture_claim_number": [{"claim_number": "FK0000000099"}]})
    desk.run_worker(portal)
    assert desk.status(task) == "pending_review"
    desk.sign_in(desk.add("rita@example.test", Role.REVIEWER))
    page = desk.page
    page.keyboard.press("g")
    page.keyboard.press("r")  # keyboard navigation to the review queue
    card = page.get_by_test_id("review-card")
    expect(card).to_have_count(1)
    expect(card.get_by_test_id("review-reason")).not_to_be_empty()
    expect(card).to_contain_text("TST100200300")  # the form values
    gate = card.get_by_role("img", name=re.compile("Screenshot after step"))
    expect(gate).to_be_visible()
    desk.shot("review-queue")
    card.get_by_label(re.compile("^Note")).fill("Charges match the superbill.")
    card.get_by_role("button", name="Approve and continue").click()
    expect(page.get_by_test_id("flash")).to_contain_text("approved: it continues")
    desk.run_worker(portal)
    assert desk.status(task) == "completed"
    desk.go(f"/tasks/{task}")
    timeline = page.get_by_test_id("timeline")
    expect(timeline).to_contain_text("approve: pending review → pending")
    expect(timeline).to_contain_text("Charges match the superbill.")


def test_reject_a_review(desk: Desk) -> None:
    task = desk.big_claim()
    desk.run_worker(FakePortal())
    desk.sign_in(desk.add("rita@example.test", Role.REVIEWER))
    desk.go(f"/tasks/{task}")
    page = desk.page
    form = page.get_by_test_id("review-form")
    form.get_by_label(re.compile("^Note")).fill("Units look wrong; resend corrected.")
    page.once("dialog", lambda dialog: dialog.accept())
    form.get_by_role("button", name="Reject").click()
    expect(page.get_by_test_id("flash")).to_contain_text("rejected: it is now failed")
    expect(page.locator("h1").get_by_test_id("status")).to_have_text("failed")
    expect(page.get_by_test_id("notes")).to_have_text(
        "Rejected in review: Units look wrong; resend corrected."
    )
    desk.shot("task-rejected")
    page.get_by_role("button", name="Retry as a new task").click()
    expect(page.get_by_test_id("flash")).to_contain_text("Retried as a new task, #2")
    expect(page.get_by_test_id("timeline")).to_contain_text("Retry of task #1")


def test_redeliver_a_webhook(desk: Desk) -> None:
    with Receiver().running() as receiver:
        desk.system.accounts.set_webhook_url(desk.account.id, receiver.url)
        task = desk.claim()
        desk.run_worker()
        dispatcher = desk.system.webhooks.dispatcher(poll_interval=0.05)
        assert dispatcher.run_until_idle() == 1
        desk.sign_in(desk.add("rita@example.test", Role.REVIEWER))
        desk.go(f"/tasks/{task}")
        page = desk.page
        delivery = page.get_by_test_id("delivery")
        expect(delivery).to_contain_text("task_finished")
        expect(delivery).to_contain_text("delivered")
        delivery.get_by_role("button", name="Redeliver").click()
        expect(page.get_by_test_id("flash")).to_contain_text("queued for redelivery")
        expect(page.get_by_test_id("delivery")).to_contain_text("pending")
        assert dispatcher.run_until_idle() == 1
        first, second = receiver.wait_for(2)
        assert first.webhook_id == second.webhook_id
        page.reload()
        expect(page.get_by_test_id("delivery")).to_contain_text("delivered")
        expect(page.get_by_test_id("timeline")).to_contain_text("redeliver")
        desk.shot("task-webhooks")


def test_new_task_with_the_keyboard(desk: Desk) -> None:
    desk.sign_in(desk.add("rita@example.test", Role.REVIEWER))
    page = desk.page
    page.keyboard.press("g")
    page.keyboard.press("n")
    expect(page.get_by_role("heading", name="New task")).to_be_visible()
    page.get_by_label("Type").focus()
    page.get_by_label("Type").select_option("submit_appeal")
    expect(page.get_by_label("Fields of submit appeal")).to_be_visible()
    expect(page.get_by_label("Fields of check eligibility")).to_be_hidden()
    desk.shot("new-task")
    page.keyboard.press("Tab")
    page.keyboard.type("member id: TST100200300\npatient: Tess Fixture\npayer: fake")
    page.keyboard.press("Tab")  # the file input
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Submit appeal #1")
    expect(page.get_by_role("heading", name="Needs input")).to_be_visible()
    expect(page.get_by_label("Original claim number")).to_be_visible()
    desk.shot("task-needs-input")


def test_admin_settings_show_no_secrets(desk: Desk) -> None:
    desk.sign_in(desk.add("ada@example.test", Role.ADMIN))
    page = desk.page
    page.get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", name="Portal logins")).to_be_visible()
    expect(page.get_by_role("cell", name="biller")).to_be_visible()
    assert "pw" not in page.locator("table").nth(1).inner_text().split()
    page.get_by_label("Label for a new key").fill("billing system")
    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_test_id("new-key")).to_have_text(re.compile(r"^sk_"))
    desk.shot("settings")
    desk.go("/settings")
    expect(page.get_by_test_id("new-key")).to_have_count(0)  # shown once
