"""Typing a form's boxes with as few round trips to the browser as the form allows.

Each `Locator.fill` is several round trips (Python, Playwright's driver, the page) and a claim form
has twenty boxes. A box the task leaves empty needs typing only if something is in it: a wizard's
saved draft, a default the portal prefills, a value its script put there when another box changed.
Most often nothing is (a fresh form), so whether any of the boxes to be left empty holds something
is asked once for all of them, after the other boxes are typed; only then are they cleared, one by
one as before.

A box to be left empty that the page does not have is not waited for (there is nothing in it to
clear); a box with a value still is, as `fill` waits for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import reduce

from playwright.async_api import Locator

# Whether any of the matched boxes holds something (a text box, a text area, a drop-down's value).
ANY_FILLED = "(boxes) => boxes.some((box) => typeof box.value === 'string' && box.value !== '')"


async def fill_boxes(boxes: Sequence[tuple[Locator, str]]) -> None:
    """Type each value into its box, in order; the boxes whose value is empty are cleared after,
    if any of them holds something."""
    empty = [box for box, value in boxes if not value]
    for box, value in boxes:
        if value:
            await box.fill(value)
    if empty and await any_filled(empty):
        for box in empty:
            await box.fill("")


async def any_filled(boxes: Sequence[Locator]) -> bool:
    """Whether any of `boxes` holds something, in one round trip (boxes the page lacks count as empty)."""
    union = reduce(lambda a, b: a.or_(b), boxes)
    return bool(await union.evaluate_all(ANY_FILLED))
