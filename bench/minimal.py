"""The baselines the system is compared with: what someone would write by hand.

`playwright_script`: a minimal Playwright script (one browser, one page, log in once, then fill and
submit each claim); it deliberately shares nothing with `handlers/` — no page objects, no hazard
checks, no screenshots, no database. `http_forms`: the same claims as raw form posts (httpx), no
browser at all: the floor.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx
import psutil
import pyotp
from claims import CLAIM_NUMBER, Claim
from harness import CpuMeter
from playwright.async_api import Page, async_playwright

from handlers.browser import launch_options


@dataclass
class Timings:
    login: float = 0.0
    per_claim: list[float] = field(default_factory=list)
    claim_numbers: list[str] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds by group, with `cpu_roots`

    @property
    def total(self) -> float:
        return self.login + sum(self.per_claim)


async def playwright_script(
    acme_url: str,
    user: dict[str, str],
    batch: Sequence[Claim],
    cpu_roots: dict[str, psutil.Process] | None = None,
) -> Timings:
    """With `cpu_roots` (e.g. the portal's process), `Timings.cpu` gets the CPU seconds spent from
    the login to the last claim: this process ("worker": the script's Python), Playwright's driver,
    Chromium, and those roots."""
    timings = Timings()
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(**launch_options())  # type: ignore[arg-type]
        try:
            with CpuMeter({"worker": psutil.Process(), **(cpu_roots or {})}) as meter:
                page = await browser.new_page()
                start = time.perf_counter()
                await sign_in(page, acme_url, user)
                timings.login = time.perf_counter() - start
                for claim in batch:
                    start = time.perf_counter()
                    await page.goto(f"{acme_url}/claims/new")
                    number = await fill_and_submit(page, claim)
                    timings.per_claim.append(time.perf_counter() - start)
                    timings.claim_numbers.append(number.strip())
            timings.cpu = meter.spent
        finally:
            await browser.close()
    return timings


async def sign_in(page: Page, acme_url: str, user: dict[str, str]) -> None:
    """Sign in to Acme as a person would: username and password, then the TOTP code."""
    await page.goto(f"{acme_url}/login")
    await page.fill("input[name=username]", user["username"])
    await page.fill("input[name=password]", user["password"])
    await page.click("form[action='/acme/login'] button")
    await page.wait_for_url("**/login/verify")
    await page.fill("input[name=code]", pyotp.TOTP(user["totp_secret"]).now())
    await page.click("form[action='/acme/login/verify'] button")
    await page.wait_for_url("**/home")


async def fill_and_submit(page: Page, claim: Claim) -> str:
    """On the Acme claim form: fill every field, submit, and return the claim number shown."""
    for name, value in claim.form().items():
        if name in ("line_count", "action") or not value:
            continue
        if name.endswith(("place_of_service", "resubmission_code")):
            await page.select_option(f"select[name={name}]", value)
        else:
            await page.fill(f"input[name={name}]", value)
    await page.click("button[value=submit]")
    return await page.locator("[data-testid=claim-number]").inner_text()


def http_forms(acme_url: str, user: dict[str, str], batch: Sequence[Claim]) -> Timings:
    """Sign in and submit each claim with plain form posts: GET the form (as a person would), POST it."""
    timings = Timings()
    with httpx.Client(timeout=30, follow_redirects=True) as client:
        start = time.perf_counter()
        client.get(f"{acme_url}/login").raise_for_status()
        signed = client.post(
            f"{acme_url}/login", data={"username": user["username"], "password": user["password"]}
        )
        if not str(signed.url).endswith("/login/verify"):
            raise RuntimeError(f"password step ended on {signed.url}")
        home = client.post(f"{acme_url}/login/verify", data={"code": pyotp.TOTP(user["totp_secret"]).now()})
        if not str(home.url).endswith("/home"):
            raise RuntimeError(f"verification ended on {home.url}")
        timings.login = time.perf_counter() - start
        for claim in batch:
            start = time.perf_counter()
            client.get(f"{acme_url}/claims/new").raise_for_status()
            answer = client.post(f"{acme_url}/claims/new", data=claim.form())
            found = CLAIM_NUMBER.search(answer.text)
            if found is None:
                raise RuntimeError(f"no claim number in the answer ({answer.status_code})")
            timings.per_claim.append(time.perf_counter() - start)
            timings.claim_numbers.append(found.group(1))
    return timings
