"""Waiting for whichever of several screens shows up, without sleeping.

A step that clicks "Submit" cannot know in advance whether the confirmation, a rejection, a
duplicate warning, a form error or a maintenance page comes back. `first_visible` waits for the
union of their locators and reports which one is there.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import reduce

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Locator
from playwright.async_api import TimeoutError as PlaywrightTimeout

from handlers.errors import InputProblem, NeedsInput, PortalChanged

DEFAULT_TIMEOUT_MS = 20_000
MAX_RECHECKS = 50  # a screen that shows and goes again between the wait and the check


async def first_visible(
    screens: Mapping[str, Locator], *, timeout_ms: float = DEFAULT_TIMEOUT_MS, what: str = "the next page"
) -> str:
    """The key of the first screen (in mapping order) whose locator is visible.

    Raises PortalChanged when none shows within the timeout: the page is not one the script knows.
    """
    # Only visible matches count: a hidden element earlier in the page (a closed listbox, a
    # hidden modal) must not hold the wait.
    union = reduce(lambda a, b: a.or_(b), screens.values()).filter(visible=True)
    for _ in range(MAX_RECHECKS):
        try:
            await union.first.wait_for(state="visible", timeout=timeout_ms)
        except PlaywrightTimeout:
            seconds = round(timeout_ms / 1000)
            raise PortalChanged(
                f"The portal did not show {what} (nor a page the script knows) within {seconds} s."
            ) from None
        for key, locator in screens.items():
            try:
                if await locator.filter(visible=True).count():
                    return key
            except PlaywrightError:  # the page navigated between the wait and the check
                break
    raise PortalChanged(f"The portal kept changing while showing {what}.")


async def text_of(locator: Locator) -> str:
    """The visible text of an element, whitespace collapsed."""
    return " ".join((await locator.inner_text()).split())


async def texts_of(locator: Locator) -> list[str]:
    return [" ".join(t.split()) for t in await locator.all_inner_texts()]


async def choose_option(select: Locator, value: str, *, field: str, portal: str) -> None:
    """Select `value` in a drop-down, or ask for input when the portal does not offer it (a
    select_option on a missing value would just wait out its timeout)."""
    # An option is found by the value it submits, which no role or label carries: CSS it is.
    if not await select.locator(f'option[value="{value}"]').count():
        offered = [o.strip() for o in await select.get_by_role("option").all_inner_texts() if o.strip()]
        message = f"{portal} does not offer {value!r} here; it offers: {', '.join(offered[1:]) or 'nothing'}."
        raise NeedsInput(message, problems=[InputProblem(field, message)])
    await select.select_option(value)
