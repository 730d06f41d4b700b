"""A browser without Chromium, for the engine's and the worker's rules in unit tests.

`FakeBrowser` is a `runner.core.browser.Browser`: contexts of `handlers.fake.FakePage`s, a
storage state per context (a cookie names the context that made the session, so a test can see
which session was saved and restored), a trace that is a real zip of what the pages showed, and
warm contexts kept by `runner.core.warm` like the Chromium pool's. It counts what it was asked.
"""

from __future__ import annotations

import copy
import json
import zipfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from playwright.async_api import Page, StorageState

from handlers.fake import FakePage
from runner.core.browser import BrowserUnavailable, Context
from runner.core.warm import WarmContexts

PORTAL_DOMAIN = "portal.invalid"


def session_of(context_number: int) -> StorageState:
    """The storage state a fake context's session holds: one cookie naming the context."""
    return {
        "cookies": [
            {
                "name": "session",
                "value": f"context-{context_number}",
                "domain": PORTAL_DOMAIN,
                "path": "/",
                "expires": -1,
                "httpOnly": True,
                "secure": True,
                "sameSite": "Lax",
            }
        ],
        "origins": [],
    }


class FakeTracing:
    def __init__(self, context: FakeContext) -> None:
        self._context = context
        self.recording = False
        self.started = 0

    async def start(self, *, screenshots: bool | None = None, snapshots: bool | None = None) -> None:
        self.recording = True
        self.started += 1

    async def stop(self, *, path: str | None = None) -> None:
        """Write the trace to `path` (if given): a zip with every (url, html) the pages showed."""
        if not self.recording:
            raise RuntimeError("Tracing must be started before it is stopped")
        self.recording = False
        if path is None:
            return
        shown = [
            {"url": url, "html": html} for page in self._context.fake_pages for url, html in page.history
        ]
        with zipfile.ZipFile(Path(path), "w", zipfile.ZIP_DEFLATED) as trace:
            trace.writestr("trace.trace", "\n".join(json.dumps(line) for line in shown))


class FakeContext:
    def __init__(self, browser: FakeBrowser, number: int, storage_state: StorageState | None) -> None:
        self._browser = browser
        self.number = number
        # What it was restored from; once it has a page, the session is its own (signed in).
        self.restored_from = copy.deepcopy(storage_state)
        self.fake_pages: list[FakePage] = []
        self.closed = False
        self._tracing = FakeTracing(self)

    @property
    def pages(self) -> list[Page]:
        return [page.as_page() for page in self.fake_pages if not page.is_closed()]

    @property
    def tracing(self) -> FakeTracing:
        return self._tracing

    async def new_page(self) -> Page:
        self._check()
        page = FakePage()
        self.fake_pages.append(page)
        return page.as_page()

    async def storage_state(self) -> StorageState:
        self._check()
        if self.fake_pages or self.restored_from is None:
            return session_of(self.number)
        return copy.deepcopy(self.restored_from)

    async def close_pages(self) -> None:
        for page in self.fake_pages:
            await page.close()

    async def close(self) -> None:
        if self.closed:
            return
        for page in self.fake_pages:
            await page.close()
        self.closed = True
        self._browser.closed(self)

    def _check(self) -> None:
        if self.closed:
            raise RuntimeError("Target page, context or browser has been closed")


class FakeBrowser:
    """`warm_seconds` > 0 keeps contexts handed back with `park`, as the pool does, and, as the
    pool, parked contexts keep their page only within `max_pages` (default `max_contexts`) with
    those in use; `unavailable` makes every `new_context` fail as a browser outage does;
    `emptying(empty)`, if given, runs each parked context's emptying (a test holds it back or
    fails it)."""

    def __init__(
        self,
        *,
        warm_seconds: float = 0.0,
        max_contexts: int = 8,
        max_pages: int | None = None,
        unavailable: bool = False,
        emptying: Callable[[Awaitable[None]], Awaitable[None]] | None = None,
    ) -> None:
        self.unavailable = unavailable
        self.emptying = emptying
        self.started = 0
        self.stopped = 0
        self.opened: list[FakeContext] = []  # every context it made, in order
        self.reused = 0  # contexts handed out warm
        self._open: list[FakeContext] = []
        self._warm: WarmContexts[FakeContext] = WarmContexts(seconds=warm_seconds, limit=max_contexts)
        self._max_pages = max_contexts if max_pages is None else max_pages

    @property
    def in_use(self) -> int:
        return len(self._open) - len(self._warm)

    @property
    def parked(self) -> int:
        return len(self._warm)

    @property
    def parked_pages(self) -> int:
        """Parked contexts that keep their page."""
        return self._warm.pages

    async def start(self) -> None:
        self.started += 1

    async def stop(self) -> None:
        await self._warm.close_all()
        for context in list(self._open):
            await context.close()
        self.stopped += 1

    async def new_context(
        self, *, storage_state: StorageState | None = None, warm_key: str | None = None
    ) -> FakeContext:
        if warm_key is not None:
            warm = await self._warm.take(warm_key)
            if warm is not None:
                self.reused += 1
                await self._fit_pages()
                return warm
        if self.unavailable:
            raise BrowserUnavailable("No browser server is reachable (fake); the task will be retried.")
        context = FakeContext(self, len(self.opened) + 1, storage_state)
        self.opened.append(context)
        self._open.append(context)
        await self._fit_pages()
        return context

    async def park(self, context: Context, warm_key: str) -> None:
        """As the pool: kept with one page showing about:blank, or closed (warm contexts off)."""
        kept = next((c for c in self._open if c is context), None)
        if not self._warm.enabled or kept is None:
            await context.close()
            return
        pages = [page for page in kept.fake_pages if not page.is_closed()]

        async def empty() -> None:  # in the background, as the pool's
            for page in pages[1:]:
                await page.close()
            if pages:
                await pages[0].goto("about:blank")

        await self._warm.keep(
            warm_key,
            kept,
            usable=lambda: not kept.closed,
            label="fake",
            close_page=kept.close_pages if pages else None,
            emptying=self.emptying(empty()) if self.emptying else empty(),
        )
        await self._fit_pages()

    async def _fit_pages(self) -> None:
        await self._warm.shed(self._max_pages - self.in_use)

    def closed(self, context: FakeContext) -> None:
        if context in self._open:
            self._open.remove(context)
