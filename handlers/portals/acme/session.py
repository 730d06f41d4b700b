"""Getting and keeping an Acme Health session: the `login` step, navigation that signs in again
when the session has ended, and the hazard check every screen change goes through.

With a stored session `login` loads no page: whether the session still holds is found out by the
first real screen (`open_screen`, which every step after `login` starts with), and it signs in
again there when the session has ended. That saves a page load per task.
"""

from __future__ import annotations

from collections.abc import Mapping

from playwright.async_api import Locator

from handlers.context import StepContext
from handlers.errors import LoginRefused
from handlers.portals.acme.screens import Chrome, LoginPage, VerificationPage
from handlers.portals.common.formats import totp_code
from handlers.portals.common.hazards import Hazard, raise_hazard
from handlers.portals.common.screens import first_visible
from handlers.portals.common.watch import prepare_page

PORTAL = "Acme Health"
SIGN_IN = "login"


async def login(ctx: StepContext) -> None:
    """Keep a stored session for the first screen to try; without one, sign in with password + TOTP."""
    await _prepare(ctx)
    if await has_session(ctx):
        ctx.log.info("login: stored session kept for the first screen", extra={"portal": "acme"})
        return
    await ctx.page.goto(ctx.url(SIGN_IN))
    await arrive(ctx, {}, what="the sign-in page", signed_out_ok=True)
    await sign_in(ctx)


async def sign_in(ctx: StepContext) -> None:
    """From the sign-in page to the home page."""
    page, creds = ctx.page, ctx.credentials
    chrome, form, verification = Chrome(page), LoginPage(page), VerificationPage(page)
    await form.sign_in(creds.username, creds.password)
    where = await arrive(ctx, {"verify": verification.heading, "refused": form.error}, what="verification")
    if where == "refused":
        message = " ".join((await form.error.inner_text()).split())
        raise LoginRefused(f"{PORTAL} refused the login: {message}", locked="locked" in message.lower())
    if not creds.totp_secret:
        raise LoginRefused(
            f"{PORTAL} asks for an authenticator code, but this login has no TOTP secret; "
            "add one with `sopwright portals add ... --totp-secret-env`."
        )
    await verification.verify(totp_code(creds.totp_secret))
    where = await arrive(ctx, {"home": chrome.signed_in_user, "bad code": verification.error}, what="home")
    if where == "bad code":
        raise LoginRefused(f"{PORTAL} did not accept the authenticator code: check the login's TOTP secret.")
    ctx.log.info("login: signed in", extra={"portal": "acme"})


async def open_screen(ctx: StepContext, path: str, expected: Locator, *, what: str) -> None:
    """Go to a page of the portal by its path; sign in again once if the session has ended."""
    await _prepare(ctx)
    for attempt in range(2):
        await ctx.page.goto(ctx.url(path))
        where = await arrive(ctx, {"expected": expected}, what=what, signed_out_ok=attempt == 0)
        if where == "expected":
            return
        ctx.log.info("session ended; signing in again", extra={"portal": "acme"})
        await sign_in(ctx)


async def arrive(
    ctx: StepContext, screens: Mapping[str, Locator], *, what: str, signed_out_ok: bool = False
) -> str:
    """Wait for one of `screens` after a click or a navigation, raising the portal's hazards.

    The sign-in page is a hazard (SessionExpired) unless `signed_out_ok`: then "signed_out" is
    returned for the caller to sign in.
    """
    hazards = Chrome(ctx.page).hazards()
    where = await first_visible({**screens, **hazards}, what=what)
    if where in screens:
        return where
    if where == Hazard.SIGNED_OUT and signed_out_ok:
        return "signed_out"
    raise_hazard(Hazard(where), portal=PORTAL, page=ctx.page)


async def has_session(ctx: StepContext) -> bool:
    """Whether the browser holds cookies for the portal (a stored session, still good or not)."""
    return bool(await ctx.page.context.cookies(ctx.portal_url))


async def _prepare(ctx: StepContext) -> Chrome:
    chrome = Chrome(ctx.page)
    await prepare_page(ctx.page, idle_modal=chrome.idle_modal)
    return chrome
