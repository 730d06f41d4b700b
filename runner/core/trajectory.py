"""Records an attempt as it runs: a row per step with timing, URL, outcome and a screenshot.

It is the engine's `Hooks` for the worker; it also writes the exactly-once mark before the
irreversible step (fenced by the lease: a worker that lost its lease cannot set it).

Screenshots are cheap where they can be: a step that succeeds gets a viewport JPEG; the step
that failed and the step the attempt ended on get the full page as PNG (lossless: the error
message or confirmation number must read exactly), and a failing step also keeps the page's HTML
(every frame), so that an attempt without a trace can still be debugged. The screenshot mode
(`ScreenshotMode`, `SOPWRIGHT_SCREENSHOTS`) can keep only those two full pages (`final`: a step
shot costs Chromium about 30 ms of CPU) or none (`off`; the HTML of a failing step is kept).
Each attempt has a screenshot budget in bytes; once it is spent, steps get no screenshot and their
row says why.
A step that ends on a blank page (a `login` that kept a stored session loads nothing, and a warm
context starts on about:blank) gets no screenshot either, and its row says so: an image of nothing
costs Chromium as much as any other.

Screenshots are taken with Chromium's own `Page.captureScreenshot` (DevTools protocol, one
session per page) where the browser offers it: Playwright's `page.screenshot` first hides the
text caret in every frame with a style and restores it, and that restyling cost about a third of
a viewport shot's Chromium CPU; for a full page it also resizes the viewport and back. Any other
browser, or a capture that fails, goes through Playwright.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import weakref
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from handlers.engine import RECONCILE_GATE
from runner.core.artifacts import ScreenshotMode, redact_bytes, write_private
from runner.core.db import session_scope
from runner.core.queue import Lease, Queue
from runner.core.tables import TaskEvent, TrajectoryStep, utcnow
from sops.schema import Step

if TYPE_CHECKING:
    from playwright.async_api import CDPSession, Page

log = logging.getLogger(__name__)

# Step outcomes that are not a failure (the engine's "ok" and its reconciliation outcomes).
SUCCEEDED = frozenset({"ok", "skipped", "reconciled", "resubmitting"})
JPEG_QUALITY = 60
SHOT_TIMEOUT_MS = 10_000
HTML_TIMEOUT_S = 10.0
BLANK = "about:blank"
# True when the document shows nothing: no element in its body and no text (a page the portal
# never loaded; a handler's `set_content` on about:blank does show something).
IS_EMPTY = (
    "() => !document.body || (document.body.childElementCount === 0 && !document.body.innerText.trim())"
)
DEFAULT_SCREENSHOT_BUDGET = 2_000_000  # bytes per attempt
FINAL_ONLY_NOTE = "No screenshot: only the failing and the last step get one (SOPWRIGHT_SCREENSHOTS=final)."
VIEWPORT_JPEG = {"format": "jpeg", "quality": JPEG_QUALITY, "optimizeForSpeed": True}
FULL_PAGE_PNG = {"format": "png", "captureBeyondViewport": True, "optimizeForSpeed": True}

# A page's DevTools session for its screenshots, or None where there is none (not Chromium). Pages
# are the key: a warm context's page serves several tasks with one session.
_devtools: weakref.WeakKeyDictionary[Page, CDPSession | None] = weakref.WeakKeyDictionary()


@dataclass
class _Shot:
    """The screenshot recorded for a step: its row, file and size, and whether it is full-page."""

    row_id: int
    position: int
    step_id: str
    path: Path | None
    size: int
    full: bool
    skipped: bool = False  # no shot because of the screenshot mode (`final`): it may get the full page


class TrajectoryRecorder:
    def __init__(
        self,
        engine: sa.Engine,
        queue: Queue,
        lease: Lease,
        *,
        trajectory_id: str,
        account_id: str,
        folder: Path,
        relative: str,
        page: Page | None,
        screenshots: ScreenshotMode = ScreenshotMode.STEPS,
        screenshot_budget: int = DEFAULT_SCREENSHOT_BUDGET,
        ends_after: Callable[[int], bool] = lambda position: False,
        secrets: Sequence[str] = (),
    ) -> None:
        """`ends_after(position)`: whether the attempt ends once the step at `position` succeeds
        (the SOP's last step, or one that decided the outcome); `secrets` are redacted from HTML."""
        self._engine = engine
        self._queue = queue
        self._lease = lease
        self._trajectory_id = trajectory_id
        self._account_id = account_id
        self._folder = folder
        self._relative = relative
        self._page = page
        self._screenshots = screenshots
        self._budget = screenshot_budget
        self._ends_after = ends_after
        self._secrets = list(secrets)
        self._started: dict[int, datetime] = {}
        self._spent = 0
        self._last: _Shot | None = None

    @property
    def screenshot_bytes(self) -> int:
        """Bytes of screenshots this attempt kept so far."""
        return self._spent

    async def step_started(self, position: int, step: Step) -> None:
        self._started[position] = utcnow()
        log.info("step started", extra={"task_id": self._lease.task_id, "step": step.id, "script": step.do})

    async def step_finished(self, position: int, step: Step, *, outcome: str, message: str | None) -> None:
        failed = outcome not in SUCCEEDED
        full = failed or (outcome == "ok" and self._ends_after(position))
        name = f"{position:02d}-{step.id}"
        skipped = self._screenshots is ScreenshotMode.FINAL and not full
        shot: tuple[Path, int] | None = None
        note: str | None = FINAL_ONLY_NOTE
        if not skipped:
            shot, note = await self._screenshot(name, full=full)
        html = await self._html(name) if failed else None
        url = self._page.url if self._page is not None and not self._page.is_closed() else None
        row = TrajectoryStep(
            trajectory_id=self._trajectory_id,
            position=position,
            step_id=step.id,
            script=step.do,
            url=url,
            outcome=outcome,
            message=message,
            screenshot_path=self._link(shot[0]) if shot else None,
            screenshot_note=note,
            html_path=self._link(html) if html else None,
            started_at=self._started.get(position, utcnow()),
            ended_at=utcnow(),
        )
        row_id = await asyncio.to_thread(self._insert, row)
        self._last = _Shot(
            row_id, position, step.id, shot[0] if shot else None, shot[1] if shot else 0, full, skipped
        )
        log.info(
            "step finished",
            extra={"task_id": self._lease.task_id, "step": step.id, "script": step.do, "outcome": outcome},
        )

    async def attempt_ended(self) -> None:
        """The attempt is over (the executor calls this before it closes the page): the step it
        ended on gets a full-page screenshot if it has only a viewport one, or none because the
        mode is `final` (e.g. a review gate stopped the run before the next step)."""
        last = self._last
        if last is None or last.full or (last.path is None and not last.skipped):
            return
        spent = self._spent
        self._spent -= last.size  # the viewport shot is replaced if the full page fits
        shot, _note = await self._screenshot(f"{last.position:02d}-{last.step_id}", full=True, fallback=False)
        if shot is None:
            self._spent = spent
            return
        await asyncio.to_thread(self._replace, last.row_id, self._link(shot[0]))
        if last.path is not None:
            last.path.unlink(missing_ok=True)
        self._last = _Shot(last.row_id, last.position, last.step_id, shot[0], shot[1], True)

    async def before_irreversible(self, step: Step) -> None:
        await asyncio.to_thread(self._mark_submit, step)

    # -- artifacts --------------------------------------------------------------------------

    def _link(self, path: Path) -> str:
        return f"{self._relative}/{path.name}"

    async def _screenshot(
        self, name: str, *, full: bool, fallback: bool = True
    ) -> tuple[tuple[Path, int] | None, str | None]:
        """Take and keep a screenshot within the budget: ((file, size) or None, why none)."""
        page = self._page
        if page is None or self._screenshots is ScreenshotMode.OFF or page.is_closed():
            return None, None
        if self._spent >= self._budget:
            return None, self._spent_note()
        if await self._blank(page):
            return None, "No screenshot: the page was blank (the step loaded no page)."
        kinds = [True, False] if full and fallback else [full]
        for full_page in kinds:  # a full page that does not fit falls back to the viewport
            try:
                if full_page:
                    data = await _full_page_png(page)
                else:
                    data = await _viewport_jpeg(page)
            except Exception:  # a screenshot must never fail the task
                log.warning("screenshot failed", extra={"task_id": self._lease.task_id, "shot": name})
                return None, "The screenshot could not be taken."
            if self._spent + len(data) <= self._budget:
                path = self._folder / f"{name}.{'png' if full_page else 'jpg'}"
                await asyncio.to_thread(write_private, path, data)
                self._spent += len(data)
                return (path, len(data)), None
        self._spent = self._budget  # nothing more fits: later steps do not even take one
        return None, self._spent_note()

    async def _blank(self, page: Page) -> bool:
        if page.url != BLANK:
            return False  # only about:blank is checked: any page of the portal is worth an image
        try:
            return bool(await page.evaluate(IS_EMPTY))
        except Exception:  # a page that would not answer: let the screenshot try
            return False

    def _spent_note(self) -> str:
        return f"No screenshot: this attempt's screenshot budget ({self._budget} bytes) is spent."

    async def _html(self, name: str) -> Path | None:
        """The page's HTML and its frames' (Beacon's work is in an iframe), redacted of the login's
        secrets, beside the screenshot."""
        page = self._page
        if page is None or page.is_closed():
            return None
        parts: list[str] = []
        try:
            for index, frame in enumerate(page.frames):
                if index:
                    where = f"{frame.name} {frame.url}".replace("--", "%2D%2D")
                    parts.append(f"\n<!-- sopwright: frame {index}: {where} -->\n")
                parts.append(await asyncio.wait_for(frame.content(), HTML_TIMEOUT_S))
        except Exception:  # a detached frame, a page that would not answer: keep what was read
            log.warning("page HTML incomplete", extra={"task_id": self._lease.task_id, "shot": name})
        if not parts:
            return None
        data, _ = redact_bytes("".join(parts).encode(), self._secrets)
        path = self._folder / f"{name}.html"
        await asyncio.to_thread(write_private, path, data)
        return path

    # -- database writes (run in a thread) --------------------------------------------------

    def _insert(self, row: TrajectoryStep) -> int:
        with session_scope(self._engine) as session:
            session.add(row)
            session.flush()
            assert row.id is not None
            return row.id

    def _replace(self, row_id: int, screenshot: str) -> None:
        with session_scope(self._engine) as session:
            row = session.get(TrajectoryStep, row_id)
            if row is not None:
                row.screenshot_path = screenshot
                row.screenshot_note = None
                session.add(row)

    def _mark_submit(self, step: Step) -> None:
        # Committed before the click: after a crash the next attempt sees it and reconciles.
        with session_scope(self._engine) as session:
            task = self._queue.hold(session, self._lease)
            task.submit_attempted_at = utcnow()
            # A reviewer's permission to submit again after an unresolved reconciliation is
            # good for one submission only.
            task.approved_gates = [g for g in task.approved_gates if g != RECONCILE_GATE]
            session.add(task)
            session.add(
                TaskEvent(
                    task_id=task.id,
                    account_id=task.account_id,
                    actor=f"worker:{self._lease.owner}",
                    kind="submit_attempted",
                    message=f"About to run the irreversible step {step.id!r}.",
                )
            )


async def _viewport_jpeg(page: Page) -> bytes:
    """The viewport as a JPEG."""

    async def devtools(session: CDPSession) -> dict[str, Any]:
        return await _send(session, "Page.captureScreenshot", VIEWPORT_JPEG)

    async def playwright() -> bytes:
        return await page.screenshot(type="jpeg", quality=JPEG_QUALITY, timeout=SHOT_TIMEOUT_MS)

    return await _capture(page, devtools, playwright)


async def _full_page_png(page: Page) -> bytes:
    """The whole page as a PNG: the document's size, then one capture beyond the viewport
    (Playwright's full-page shot also resizes the viewport around it)."""

    async def devtools(session: CDPSession) -> dict[str, Any]:
        size = (await _send(session, "Page.getLayoutMetrics"))["cssContentSize"]
        clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
        return await _send(session, "Page.captureScreenshot", {**FULL_PAGE_PNG, "clip": clip})

    async def playwright() -> bytes:
        return await page.screenshot(full_page=True, type="png", timeout=SHOT_TIMEOUT_MS)

    return await _capture(page, devtools, playwright)


async def _capture(
    page: Page,
    devtools: Callable[[CDPSession], Awaitable[dict[str, Any]]],
    playwright: Callable[[], Awaitable[bytes]],
) -> bytes:
    """A screenshot through the page's DevTools session if it has one, else through Playwright."""
    session = await _session(page)
    if session is not None:
        try:
            return base64.b64decode((await devtools(session))["data"])
        except Exception:  # the page navigated away mid-capture, the session is gone: try Playwright
            _devtools.pop(page, None)
            with contextlib.suppress(Exception):
                await session.detach()
    return await playwright()


async def _send(session: CDPSession, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    return await asyncio.wait_for(session.send(method, params), SHOT_TIMEOUT_MS / 1000)


async def _session(page: Page) -> CDPSession | None:
    if page in _devtools:
        return _devtools[page]
    try:
        session: CDPSession | None = await page.context.new_cdp_session(page)
    except Exception:  # not Chromium (or a test's fake page): Playwright's screenshot it is
        session = None
    _devtools[page] = session
    return session
