"""Getting and keeping a Beacon Exchange session: the `login` step (log-in, passcode, security
acknowledgement, organization/provider context), opening a workflow in the workspace iframe,
and the hazard check every screen change goes through (in the top page or in the iframe).

With a stored session `login` loads no page: the first workspace a step opens (`open_workspace`,
which every step after `login` starts with) finds out whether the session still holds, passes
any gate the exchange shows instead (log-in, acknowledgement, context picker) and switches the
provider context when the session acts for another provider than the task's.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import FrameLocator, Locator

from handlers.context import StepContext
from handlers.errors import InputProblem, LoginRefused, NeedsInput, PortalChanged
from handlers.portals.beacon.screens import (
    ContextPicker,
    LoginPage,
    PasscodePage,
    SecurityNotice,
    Shell,
    hazards,
)
from handlers.portals.common.formats import totp_code
from handlers.portals.common.hazards import Hazard, raise_hazard
from handlers.portals.common.screens import first_visible, text_of
from handlers.portals.common.watch import prepare_page
from sops.fields import ACTING_PROVIDER, FIELDS
from sops.types import DocumentKind

PORTAL = "Beacon Exchange"
NPI = re.compile(r"\bNPI (\d{10})\b")
MAX_GATES = 6  # log-in, passcode, acknowledgement, context: each shows at most once per login
# The workspace iframe's height set to its document's (same origin: the page may read it).
GROW_TO_CONTENT = (
    "f => { const d = f.contentDocument; if (d) f.style.height = d.documentElement.scrollHeight + 'px'; }"
)
GROW_TIMEOUT_MS = 5_000


async def login(ctx: StepContext) -> None:
    """Keep a stored session for the first workspace to try; without one, log in and pass every
    gate up to the dashboard."""
    await _prepare(ctx)
    if await ctx.page.context.cookies(ctx.portal_url):
        ctx.log.info("login: stored session kept for the first screen", extra={"portal": "beacon"})
        return
    await ctx.page.goto(ctx.url("login"))
    await through_gates(ctx)


async def through_gates(ctx: StepContext) -> None:
    """From wherever the browser stands to the dashboard in the right provider context."""
    page, shell = ctx.page, Shell(ctx.page)
    login_page, passcode, notice = LoginPage(page), PasscodePage(page), SecurityNotice(page)
    picker = ContextPicker(page)
    signed_in = chose = False
    for _ in range(MAX_GATES):
        gates = {
            "dashboard": shell.dashboard,
            "bad code": passcode.error,
            "passcode": passcode.heading,
            "refused": login_page.error,
            "notice": notice.heading,
            "context": picker.heading,
        }
        where = await arrive(None, ctx, gates, what="the dashboard", signed_out_ok=True)
        if where == "signed_out":
            await login_page.sign_in(ctx.credentials.username, ctx.credentials.password)
            signed_in = True
        elif where == "refused":
            message = await text_of(login_page.error)
            raise LoginRefused(f"{PORTAL} refused the login: {message}", locked="locked" in message.lower())
        elif where == "bad code":
            raise LoginRefused(f"{PORTAL} did not accept the passcode: check the login's TOTP secret.")
        elif where == "passcode":
            await _passcode(ctx, passcode)
        elif where == "notice":
            await notice.acknowledge()
        elif where == "context":
            await _choose_context(ctx, picker)
            chose = True
        elif chose or await _context_matches(ctx, shell):
            message = "login: signed in" if signed_in else "login: stored session reused"
            ctx.log.info(message, extra={"portal": "beacon"})
            return
        else:
            await shell.change_context.click()
    raise PortalChanged(f"{PORTAL} kept showing sign-in pages instead of the dashboard.")


async def open_workspace(ctx: StepContext, tool: str, expected: Locator | None = None) -> FrameLocator:
    """Open a workflow (`workspace/<tool>`, query allowed) and wait for its iframe's page.

    `expected` is a locator inside the iframe (taken from `Shell(page).frame`)."""
    await _prepare(ctx)
    shell = Shell(ctx.page)
    gates = {
        "workspace": shell.workspace,
        "notice": SecurityNotice(ctx.page).heading,
        "context": ContextPicker(ctx.page).heading,
    }
    for attempt in range(2):
        await ctx.page.goto(ctx.url(f"workspace/{tool}"))
        where = await arrive(None, ctx, gates, what=f"the {tool} workspace", signed_out_ok=attempt == 0)
        if where == "workspace" and await _context_matches(ctx, shell):
            break
        if attempt:
            raise PortalChanged(f"{PORTAL} did not open the {tool} workspace after signing in again.")
        if where == "workspace":  # a stored session acting for another provider than the task's
            ctx.log.info("changing the provider context", extra={"portal": "beacon"})
            await shell.change_context.click()
        else:
            ctx.log.info("session gate shown; passing it again", extra={"portal": "beacon"})
        await through_gates(ctx)
    if expected is not None:
        await in_frame(ctx, {"expected": expected}, what=f"the {tool} page")
    return shell.frame


async def in_frame(
    ctx: StepContext, screens: Mapping[str, Locator], *, what: str, signed_out_ok: bool = False
) -> str:
    """Wait for one of `screens` inside the workspace iframe, raising what the portal shows instead."""
    return await arrive(Shell(ctx.page).frame, ctx, screens, what=what, signed_out_ok=signed_out_ok)


async def arrive(
    root: FrameLocator | None,
    ctx: StepContext,
    screens: Mapping[str, Locator],
    *,
    what: str,
    signed_out_ok: bool = False,
) -> str:
    """Wait for one of `screens` (in the top page when `root` is None, else in that iframe)."""
    where = await first_visible({**screens, **hazards(root or ctx.page)}, what=what)
    if where in screens:
        return where
    if where == Hazard.SIGNED_OUT and signed_out_ok:
        return "signed_out"
    raise_hazard(Hazard(where), portal=PORTAL, page=ctx.page)


async def _passcode(ctx: StepContext, passcode: PasscodePage) -> None:
    if not ctx.credentials.totp_secret:
        raise LoginRefused(
            f"{PORTAL} asks for a one-time passcode, but this login has no TOTP secret; "
            "add one with `sopwright portals add ... --totp-secret-env`."
        )
    await passcode.verify(totp_code(ctx.credentials.totp_secret))


def _acting_npi(ctx: StepContext) -> str | None:
    # Which of the task's NPIs the exchange session acts for (the provider context).
    field = ACTING_PROVIDER.get(ctx.task_type)
    value = ctx.fields.get(field) if field else None
    return str(value) if value else None


async def _context_matches(ctx: StepContext, shell: Shell) -> bool:
    """The session acts for the task's provider, or the task names none."""
    npi = _acting_npi(ctx)
    return npi is None or f"NPI {npi}" in await text_of(shell.context_bar)


async def _choose_context(ctx: StepContext, picker: ContextPicker) -> None:
    npi = _acting_npi(ctx)
    option = picker.provider_option(npi) if npi else picker.provider.get_by_role("option").nth(1)
    if npi and not await option.count():
        raise await _not_offered(ctx, picker, npi)
    label = await text_of(option.first)
    value = await option.first.get_attribute("value") or ""
    organization = label.rsplit(" - ", 1)[-1]
    org_option = picker.organization_option(organization)
    await picker.organization.select_option(await org_option.first.get_attribute("value") or "")
    await picker.provider.select_option(value)
    await picker.submit.click()


async def _not_offered(ctx: StepContext, picker: ContextPicker, npi: str) -> NeedsInput:
    """The task's provider is not among those this login may act for: the exchange would refuse
    anything sent for it (a claim's billing NPI must be a provider of the chosen organization)."""
    field = ACTING_PROVIDER[ctx.task_type]
    label = FIELDS[field].label
    offered = [
        m.group(1)
        for t in await picker.provider.get_by_role("option").all_text_contents()
        if (m := NPI.search(t))
    ]
    message = (
        f"{label} {npi} is not a provider this {PORTAL} login can act for (it acts for NPI "
        f"{', '.join(offered) or 'none'}); correct the {label}, or ask {PORTAL} to add the provider "
        "to your organization"
    )
    return NeedsInput(
        f"{PORTAL} cannot act for this provider: {message}.", problems=[InputProblem(field, message)]
    )


async def _prepare(ctx: StepContext) -> None:
    await prepare_page(ctx.page, idle_modal=Shell.idle_modal)


async def print_workspace(
    ctx: StepContext, filename: str, kind: DocumentKind = DocumentKind.CONFIRMATION
) -> None:
    """Keep the workspace's answer as a PDF, as a clerk prints it: the whole page, the exchange's
    frame around the workspace iframe. The iframe scrolls in a box of most of the window's height:
    it is first grown to its content, so that a long answer is not cut off at the box's edge."""
    with contextlib.suppress(PlaywrightError):  # a printout cut short is still a printout
        await Shell(ctx.page).workspace.evaluate(GROW_TO_CONTENT, timeout=GROW_TIMEOUT_MS)
    await ctx.documents.save_page_pdf(ctx.page, kind=kind, filename=filename)
