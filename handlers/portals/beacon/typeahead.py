"""Choosing the health plan in Beacon's payer typeahead.

Beacon is an exchange: one login sends work to many health plans, so a task names both, e.g.
`payer: Beacon Exchange / Acme Health` (the exchange picks the login, the rest picks the plan).
A task that names only the exchange cannot say where the claim should go.
"""

from __future__ import annotations

import re

from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from handlers.context import StepContext
from handlers.errors import InputProblem, NeedsInput, SessionExpired, Transient
from handlers.portals.beacon.pages import PayerTypeahead
from handlers.portals.beacon.session import PORTAL, in_frame
from handlers.portals.common.screens import texts_of

EXCHANGE_NAMES = ("beacon exchange", "beacon")
ANSWER_TIMEOUT_MS = 20_000


def plan_name(payer: str) -> str:
    """The health plan part of the task's payer ("Beacon Exchange / Acme Health" -> "Acme Health")."""
    text = payer.strip()
    for name in EXCHANGE_NAMES:
        if text.lower().startswith(name):
            text = text[len(name) :]
            break
    return text.strip(" -/:|,")


async def choose_payer(ctx: StepContext, typeahead: PayerTypeahead) -> None:
    """Type the plan's name, wait for the async listbox, pick the matching option by role."""
    plan = plan_name(str(ctx.fields.get("payer") or ""))
    if not plan:
        raise _unknown(f"name the health plan after the exchange, e.g. '{PORTAL} / Acme Health'")
    await _search(ctx, typeahead, plan)
    match = typeahead.listbox.get_by_role("option", name=re.compile(rf"^{re.escape(plan)}$", re.I))
    screens = {"match": match, "others": typeahead.options, "none": typeahead.listbox}
    where = await in_frame(ctx, screens, what="the payer list")
    if where != "match":
        listed = await texts_of(typeahead.options)
        shown = f"it lists {', '.join(listed)}" if listed else "it lists no payer by that name"
        raise _unknown(f"{PORTAL} has no payer named {plan!r} ({shown})")
    await match.first.click()
    if (await typeahead.input.input_value()).lower() != plan.lower():
        chosen = await typeahead.input.input_value()
        raise _unknown(f"{PORTAL} did not take the payer {plan!r} (the field shows {chosen!r})")


async def _search(ctx: StepContext, typeahead: PayerTypeahead, plan: str) -> None:
    """Type the plan and wait for the portal's answer to the lookup. A lookup that failed shows the
    same empty list as one that found nothing: its HTTP status tells them apart, so an expired
    session or a server error is retried instead of asking the client about the payer."""
    source = await typeahead.input.get_attribute("data-source")
    if not source:  # no known data source: fall back to waiting for the list alone
        await typeahead.input.fill(plan)
        return
    try:
        async with ctx.page.expect_response(lambda r: source in r.url, timeout=ANSWER_TIMEOUT_MS) as answer:
            await typeahead.input.fill(plan)
        status = (await answer.value).status
    except PlaywrightTimeoutError:
        return  # no answer seen (a modal in the way, a slow portal): the list decides, as before
    if status in (401, 403):
        raise SessionExpired(f"{PORTAL} signed the session out during the payer lookup.")
    if status >= 400:
        raise Transient(f"{PORTAL}'s payer lookup failed (HTTP {status}).")


def _unknown(message: str) -> NeedsInput:
    return NeedsInput(f"The payer is not clear: {message}.", problems=[InputProblem("payer", message)])
