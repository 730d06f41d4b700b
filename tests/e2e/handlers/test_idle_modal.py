"""The idle modal answered by the page script (handlers.portals.common.idle), on pages served by a
route: in a document open before the install and in later ones, in the top page and in an iframe,
once per showing however often a warm context's next task installs it; a modal the script's click
did not close clicked from Python as a person would; a modal with no button to click reported."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

import pytest
from playwright.async_api import Page, Route, async_playwright

from handlers.browser import launch_options
from handlers.portals.common import idle
from handlers.portals.common.idle import IdleModal, answer_idle_modal
from tests.support.threaded import run_async

PORTAL = "https://portal.test"
ANSWERED = "idle warning answered: stayed signed in"
WAIT_SECONDS = 30.0
MODAL = IdleModal(
    modal='[data-testid="idle-modal"]', stay="button[data-idle-stay]", stay_name="Stay signed in"
)

# The modal as the mock portal has it: hidden until the page's countdown shows it (here the test
# does, through `showIdle()`); "Stay signed in" counts the keep-alives and hides it again.
MODAL_HTML = """
<div role="alertdialog" data-testid="idle-modal" hidden>
  <p>Are you still there?</p>
  <button type="button" %s onclick="window.kept = (window.kept || 0) + 1; this.parentElement.hidden = true">
    Stay signed in</button>
  <button type="button">Sign out now</button>
</div>
<script>
  window.showIdle = () => { document.querySelector("[data-testid=idle-modal]").hidden = false; };
</script>
"""
PAGES = {
    "/top": "<h1>Shell</h1><iframe src='/frame' title='work'></iframe>" + MODAL_HTML % "data-idle-stay",
    "/frame": "<h1>Work</h1>" + MODAL_HTML % "data-idle-stay",
    "/named": "<h1>Named</h1>" + MODAL_HTML % "",  # the button by its name only
    # A portal that ignores a click a script makes: only real input keeps the session.
    "/trusted": "<h1>Strict</h1>"
    + (MODAL_HTML % "data-idle-stay").replace('onclick="', 'onclick="if (!event.isTrusted) return; '),
    "/buttonless": "<h1>Odd</h1><div role='alertdialog' data-testid='idle-modal' hidden>Wait...</div>"
    "<script>window.showIdle = () => { document.querySelector('[data-testid=idle-modal]').hidden = false; };"
    "</script>",
}


def run_on_page(scenario: Callable[[Page], Awaitable[None]]) -> None:
    async def main() -> None:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(**launch_options())  # type: ignore[arg-type]
            try:
                context = await browser.new_context()

                async def serve(route: Route) -> None:
                    path = route.request.url.removeprefix(PORTAL)
                    await route.fulfill(status=200, content_type="text/html", body=PAGES[path])

                await context.route(f"{PORTAL}/**", serve)
                await scenario(await context.new_page())
            finally:
                await browser.close()

    run_async(main)  # pytest-playwright's sync tests keep an event loop running in this thread


async def logged(caplog: pytest.LogCaptureFixture, message: str, times: int) -> None:
    """Until `message` was logged `times` times (the binding's call reaches Python after the click)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while [r.getMessage() for r in caplog.records].count(message) < times:
        assert time.monotonic() < deadline, f"{message!r} logged fewer than {times} times"
        await asyncio.sleep(0.05)


def test_the_modal_is_answered_in_open_and_later_documents_and_their_iframes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="sopwright.steps")

    async def scenario(page: Page) -> None:
        await page.goto(f"{PORTAL}/top")  # loaded before the install: the script is run in it
        await page.frame_locator("iframe").locator("h1").wait_for()
        await answer_idle_modal(page, MODAL)
        frame = page.frame(url=f"{PORTAL}/frame")
        assert frame is not None
        await frame.evaluate("() => window.showIdle()")
        await frame.wait_for_function("() => window.kept === 1")
        await logged(caplog, ANSWERED, 1)

        await page.goto(f"{PORTAL}/top")  # a later document: the init script
        await answer_idle_modal(page, MODAL)  # the next step (or a warm context's next task)
        await page.evaluate("() => window.showIdle()")
        await page.wait_for_function("() => window.kept === 1")
        await logged(caplog, ANSWERED, 2)
        await page.evaluate("() => window.showIdle()")  # shown again: answered again, once
        await page.wait_for_function("() => window.kept === 2")
        await logged(caplog, ANSWERED, 3)
        assert await page.evaluate("() => window.kept") == 2

        await page.goto(f"{PORTAL}/named")
        await page.evaluate("() => window.showIdle()")
        await page.wait_for_function("() => window.kept === 1")
        await logged(caplog, ANSWERED, 4)

    run_on_page(scenario)


def test_a_modal_with_no_button_to_click_is_reported_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="sopwright.steps")
    warning = "idle warning shown with no stay-signed-in button to click; the session may end"

    async def scenario(page: Page) -> None:
        await answer_idle_modal(page, MODAL)
        await page.goto(f"{PORTAL}/buttonless")
        await page.evaluate("() => window.showIdle()")
        await logged(caplog, warning, 1)
        await page.goto(f"{PORTAL}/named")
        await page.evaluate("() => window.showIdle()")
        await page.wait_for_function("() => window.kept === 1")
        await logged(caplog, ANSWERED, 1)
        assert [r.getMessage() for r in caplog.records].count(warning) == 1

    run_on_page(scenario)


def test_a_modal_a_script_cannot_close_is_clicked_as_a_person(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.INFO, logger="sopwright.steps")
    monkeypatch.setattr(idle, "RETRY_AFTER_MS", 1_000)

    async def scenario(page: Page) -> None:
        await answer_idle_modal(page, MODAL)
        await page.goto(f"{PORTAL}/trusted")
        await page.evaluate("() => window.showIdle()")
        await page.wait_for_function("() => window.kept === 1")
        await logged(caplog, ANSWERED, 2)  # the script's click, then the real one
        messages = [r.getMessage() for r in caplog.records]
        assert sum("still shown after stay-signed-in was clicked" in m for m in messages) == 1

    run_on_page(scenario)
