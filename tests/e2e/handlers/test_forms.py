"""`fill_boxes` (handlers/portals/common/forms.py) on a real page: values typed, boxes to be left
empty cleared only when one of them holds something, asked after the typing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from playwright.async_api import Page, async_playwright

from handlers.browser import launch_options
from handlers.portals.common.forms import any_filled, fill_boxes
from tests.support.threaded import run_async

FORM = """
<form>
  <label>Member ID <input name="member"></label>
  <label>Account number <input name="account" value="{account}"></label>
  <label>Notes <textarea name="notes">{notes}</textarea></label>
  <label>Copy of member <input name="copy"></label>
</form>
<script>
  // What a portal's script may do: fill one box from another as it is typed.
  const member = document.querySelector('[name=member]');
  member.addEventListener('input', () => {{
    if ({mirror}) document.querySelector('[name=copy]').value = member.value;
  }});
</script>
"""


def on_a_page(check: Callable[[Page], Awaitable[None]]) -> None:
    async def main() -> None:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(**launch_options())  # type: ignore[arg-type]
            try:
                await check(await browser.new_page())
            finally:
                await browser.close()

    run_async(main)  # pytest-playwright's sync tests keep an event loop running in this thread


async def _form(page: Page, *, account: str = "", notes: str = "", mirror: bool = False) -> None:
    await page.set_content(FORM.format(account=account, notes=notes, mirror="true" if mirror else "false"))


async def _values(page: Page) -> dict[str, str]:
    boxes = "() => [...document.querySelectorAll('input, textarea')].map((b) => [b.name, b.value])"
    return dict(await page.evaluate(boxes))


def test_a_fresh_form_gets_its_values_and_nothing_waits_for_a_box_left_empty() -> None:
    on_a_page(_test_a_fresh_form_gets_its_values_and_nothing_waits_for_a_box_left_empty)


async def _test_a_fresh_form_gets_its_values_and_nothing_waits_for_a_box_left_empty(page: Page) -> None:
    await _form(page)
    page.set_default_timeout(3_000)  # a fill of the missing box below would wait this out and fail
    await fill_boxes(
        [
            (page.get_by_label("Member ID"), "SYN100001"),
            (page.get_by_label("Account number"), ""),
            (page.get_by_label("Notes"), ""),
            # Not on this page: left empty, so there is nothing in it to clear.
            (page.get_by_label("Rendering provider NPI"), ""),
        ]
    )
    assert await _values(page) == {"member": "SYN100001", "account": "", "notes": "", "copy": ""}


def test_boxes_left_empty_are_cleared_when_one_holds_something() -> None:
    on_a_page(_test_boxes_left_empty_are_cleared_when_one_holds_something)


async def _test_boxes_left_empty_are_cleared_when_one_holds_something(page: Page) -> None:
    await _form(page, account="ACCT-OLD", notes="last attempt's notes")
    await fill_boxes(
        [
            (page.get_by_label("Member ID"), "SYN100001"),
            (page.get_by_label("Account number"), ""),
            (page.get_by_label("Notes"), ""),
        ]
    )
    assert await _values(page) == {"member": "SYN100001", "account": "", "notes": "", "copy": ""}


def test_a_box_the_page_filled_while_typing_is_cleared() -> None:
    on_a_page(_test_a_box_the_page_filled_while_typing_is_cleared)


async def _test_a_box_the_page_filled_while_typing_is_cleared(page: Page) -> None:
    await _form(page, mirror=True)
    copy, member = page.get_by_label("Copy of member"), page.get_by_label("Member ID")
    await fill_boxes([(copy, ""), (member, "SYN100001")])
    assert await _values(page) == {"member": "SYN100001", "account": "", "notes": "", "copy": ""}


def test_any_filled_reads_every_box_in_one_go() -> None:
    on_a_page(_test_any_filled_reads_every_box_in_one_go)


async def _test_any_filled_reads_every_box_in_one_go(page: Page) -> None:
    await _form(page, notes="x")
    assert await any_filled([page.get_by_label("Account number"), page.get_by_label("Notes")])
    assert not await any_filled([page.get_by_label("Account number"), page.get_by_label("Member ID")])
    assert not await any_filled([page.get_by_label("No such box")])
