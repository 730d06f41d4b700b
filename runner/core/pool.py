"""Browser contexts from Chromium: one isolated context per task, from a local Chromium or from
remote Playwright browser servers (the `runner.core.browser.Browser` the worker runs on).

Local (no endpoints): one Chromium per worker process, launched at start and relaunched if it died.
Remote (`SOPWRIGHT_BROWSER_WS_ENDPOINT`): one connection per server (`playwright run-server`; each
connection gets its own browser there). A new context goes to the reachable server with the fewest
open contexts, at most `max_contexts` per server; a request waits for a free slot up to
`slot_timeout`, then fails with `BrowserUnavailable` (the worker gives the task back for a retry).
A server that refuses a connection is marked down and tried again after a back-off; one that drops
the connection (a restart) is reconnected on the next request. A context frees its slot when it
closes, also when its server dies under it.

Warm contexts (`warm_seconds` > 0, `runner.core.warm`): a context handed back with `park` is
emptied first — the portal's page storage cleared (a form draft may hold the last task's
patient), its pages closed but one, which shows about:blank — then kept for the next
`new_context(warm_key=...)` of its key. A parked context also gives way when a server is full.
Pages are the memory (a renderer process each, 35-40 MB; a parked context without one, about 5):
the contexts in use plus the parked contexts that keep their page stay within `max_pages` (the
worker's concurrency), so a parked context loses its page, longest-parked first, when a task
needs the room; the next task of its key then opens a page (about 60 ms and 60 ms of CPU more
than taking over the kept one; bench/parked_contexts.py).

With an egress gate (runner.core.egress), every context goes out through it, so the destination
policy holds for every request a page makes; service workers are blocked either way (no portal
needs them, and requests they make are hidden from Playwright).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from playwright.async_api import Browser, BrowserContext, Page, Playwright, StorageState, async_playwright

from handlers.browser import launch_options, server_launch_options
from runner.core.browser import BrowserUnavailable, Context
from runner.core.egress import EgressGate
from runner.core.warm import WarmContexts

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_SECONDS = 30.0  # the server launches a browser before it answers
SLOT_TIMEOUT_SECONDS = 60.0
RETRY_MIN_SECONDS = 1.0
RETRY_MAX_SECONDS = 30.0


class _Refused(Exception):
    """A server would not connect; it is marked down (internal: the caller tries elsewhere)."""


def endpoint_label(endpoint: str) -> str:
    """The endpoint as it may appear in logs: no credentials, no query (tokens live there)."""
    parts = urlsplit(endpoint)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return f"{parts.scheme}://{host}{parts.path}"


@dataclass(eq=False)
class _Server:
    """One source of browser contexts: a remote endpoint, or the local Chromium (endpoint None)."""

    endpoint: str | None
    label: str
    browser: Browser | None = None
    reserved: int = 0  # slots taken by requests that are opening a context now
    open: set[BrowserContext] = field(default_factory=set)
    failures: int = 0
    down_until: float = 0.0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def taken(self) -> int:
        return self.reserved + len(self.open)

    @property
    def connected(self) -> bool:
        return self.browser is not None and self.browser.is_connected()


class BrowserPool:
    def __init__(
        self,
        *,
        executable: str | None = None,
        headless: bool = True,
        slow_mo: float = 0,
        endpoints: Sequence[str] = (),
        max_contexts: int = 8,
        slot_timeout: float = SLOT_TIMEOUT_SECONDS,
        connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
        egress: EgressGate | None = None,
        warm_seconds: float = 0.0,
        max_pages: int | None = None,
    ) -> None:
        """`max_pages`: contexts in use plus parked contexts that keep their page (default
        `max_contexts`)."""
        if max_contexts < 1:
            raise ValueError("max_contexts must be at least 1")
        self._max_pages = max_contexts if max_pages is None else max_pages
        self._warm: WarmContexts[BrowserContext] = WarmContexts(seconds=warm_seconds, limit=max_contexts)
        self._executable = executable
        self._headless = headless
        self._slow_mo = slow_mo
        self._max_contexts = max_contexts
        self._slot_timeout = slot_timeout
        self._connect_timeout = connect_timeout
        self._remote = bool(endpoints)
        if self._remote:
            self._servers = [_Server(e, endpoint_label(e)) for e in endpoints]
        else:
            self._servers = [_Server(None, "local")]
        self._playwright: Playwright | None = None
        self._changed = asyncio.Event()
        self._egress = egress

    @property
    def in_use(self) -> int:
        """Browser contexts in use right now (one per running task), across all browsers."""
        return sum(len(server.open) for server in self._servers) - self.parked

    @property
    def parked(self) -> int:
        """Warm contexts waiting for the next task of their key."""
        return len(self._warm)

    @property
    def parked_pages(self) -> int:
        """Parked contexts that keep their page (and so a renderer process)."""
        return self._warm.pages

    def status(self) -> list[dict[str, object]]:
        """Per browser: its label, whether it is connected, and its open contexts."""
        return [{"server": s.label, "up": s.connected, "open": len(s.open)} for s in self._servers]

    async def start(self) -> None:
        """Start Playwright and open every browser; remote mode fails only if no server answers."""
        if self._egress is not None:
            await self._egress.start()
        self._playwright = await async_playwright().start()
        if not self._remote:
            await self._connect(self._servers[0])
            return
        await asyncio.gather(*(self._try_connect(s) for s in self._servers))
        if not any(s.connected for s in self._servers):
            labels = ", ".join(s.label for s in self._servers)
            await self.stop()
            raise BrowserUnavailable(
                f"No browser server answered ({labels}); check SOPWRIGHT_BROWSER_WS_ENDPOINT and that "
                "`playwright run-server` runs there."
            )

    async def new_context(
        self, *, storage_state: StorageState | None = None, warm_key: str | None = None
    ) -> BrowserContext:
        """A context for one task: the warm one parked under `warm_key` if there is one (its own
        session, newer than `storage_state`), else a new one restored from `storage_state`."""
        if warm_key is not None:
            warm = await self._warm.take(warm_key)
            if warm is not None:
                log.debug("warm browser context reused", extra={"parked": self.parked})
                await self._fit_pages()
                return warm
        deadline = time.monotonic() + self._slot_timeout
        while True:
            server = await self._take_slot(deadline)
            try:
                if not server.connected:
                    if not self._remote:
                        log.warning("browser gone; starting a new one")
                    await self._connect(server)
                assert server.browser is not None
                context = await server.browser.new_context(
                    storage_state=storage_state,
                    viewport={"width": 1280, "height": 900},
                    # Step scripts keep the portal's letters and EOBs (handlers/documents.py saves
                    # each into the task's artifact folder and deletes the browser's copy).
                    accept_downloads=True,
                    service_workers="block",
                    proxy={"server": self._egress.server} if self._egress is not None else None,
                )
            except _Refused:
                continue  # marked down; try another server or wait for the back-off
            except Exception:
                if self._remote and not server.connected:
                    continue  # the server went away mid-request; reconnect or go elsewhere
                raise
            finally:
                server.reserved -= 1
                self._wake()
            server.open.add(context)
            context.on("close", functools.partial(self._release, server))
            log.debug("browser context opened", extra={"server": server.label, "open": len(server.open)})
            await self._fit_pages()
            return context

    async def park(self, context: Context, warm_key: str) -> None:
        """Keep `context` for the next `new_context(warm_key=...)`, emptied of this task, or close
        it when warm contexts are off or it cannot be emptied."""
        server = next((s for s in self._servers if context in s.open), None)
        if not self._warm.enabled or server is None or not server.connected:
            await context.close()
            return
        assert isinstance(context, BrowserContext)  # one of this pool's (it is in `server.open`)
        pages = list(context.pages)
        # Emptied in the background (warm.py): the next task of the key waits for it, not this one.
        await self._warm.keep(
            warm_key,
            context,
            usable=lambda: server.connected and context in server.open,
            label=server.label,
            close_page=functools.partial(_close_pages, context) if pages else None,
            emptying=_empty(pages),
        )
        await self._fit_pages()

    async def _fit_pages(self) -> None:
        """Parked contexts keep their page only within the page budget left by those in use."""
        await self._warm.shed(self._max_pages - self.in_use)

    async def stop(self) -> None:
        await self._warm.close_all()
        for server in self._servers:
            await self._close_browser(server)
        if self._playwright is not None:
            await self._playwright.stop()
            self._playwright = None
        if self._egress is not None:
            await self._egress.stop()

    # -- placement ----------------------------------------------------------------------------

    async def _take_slot(self, deadline: float) -> _Server:
        """Reserve a slot on the reachable server with the fewest open contexts; wait for one."""
        if not self._remote:
            self._servers[0].reserved += 1
            return self._servers[0]
        while True:
            now = time.monotonic()
            changed = self._changed
            candidates = [s for s in self._servers if s.down_until <= now and s.taken < self._max_contexts]
            if not candidates and await self._warm.evict():
                continue  # every reachable server was full: a warm context gave way to this task
            if candidates:
                server = min(candidates, key=lambda s: (s.taken, not s.connected))
                server.reserved += 1
                return server
            if now >= deadline:
                raise BrowserUnavailable(self._unavailable_message())
            # Wake when a slot frees or the next down server may be tried again.
            retry_at = min((s.down_until for s in self._servers if s.down_until > now), default=deadline)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), timeout=max(0.0, min(deadline, retry_at) - now))

    def _unavailable_message(self) -> str:
        down = [s.label for s in self._servers if s.down_until > time.monotonic()]
        if len(down) == len(self._servers):
            return f"No browser server is reachable ({', '.join(down)}); the task will be retried."
        return (
            f"All browser servers are busy ({self._max_contexts} contexts each) for "
            f"{self._slot_timeout:.0f} s; the task will be retried."
        )

    def _wake(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def _release(self, server: _Server, context: BrowserContext) -> None:
        if context in server.open:
            server.open.discard(context)
            log.debug("browser context closed", extra={"server": server.label, "open": len(server.open)})
            self._wake()

    # -- connections ----------------------------------------------------------------------------

    async def _try_connect(self, server: _Server) -> None:
        with contextlib.suppress(_Refused):
            await self._connect(server)

    async def _connect(self, server: _Server) -> None:
        """Open the server's browser (one connection at a time per server)."""
        async with server.lock:
            if server.connected:
                return
            await self._close_browser(server)
            assert self._playwright is not None
            chromium = self._playwright.chromium
            if server.endpoint is None:
                options = launch_options(self._executable, headless=self._headless, slow_mo=self._slow_mo)
                browser = await chromium.launch(**options)  # type: ignore[arg-type]
                log.info("browser started", extra={"version": browser.version})
            else:
                if server.down_until > time.monotonic():
                    raise _Refused  # another request found it down while this one waited
                options = server_launch_options(self._executable, headless=self._headless)
                try:
                    browser = await chromium.connect(
                        server.endpoint,
                        headers={"x-playwright-launch-options": json.dumps(options)},
                        timeout=self._connect_timeout * 1000,
                        slow_mo=self._slow_mo or None,
                    )
                except Exception as exc:
                    self._mark_down(server, exc)
                    raise _Refused from exc
                was_down = server.failures > 0
                server.failures = 0
                server.down_until = 0.0
                log.info(
                    "browser server up" if was_down else "browser server connected",
                    extra={"server": server.label, "version": browser.version},
                )
            browser.on("disconnected", lambda gone: self._on_disconnected(server, gone))
            server.browser = browser

    def _on_disconnected(self, server: _Server, browser: Browser) -> None:
        if server.browser is not browser:
            return
        if self._remote:
            log.info("browser server disconnected", extra={"server": server.label, "open": len(server.open)})
        server.browser = None
        # The contexts' own close events have freed their slots; this covers any that did not fire.
        server.open.clear()
        self._wake()

    def _mark_down(self, server: _Server, error: Exception) -> None:
        server.failures += 1
        delay = min(RETRY_MAX_SECONDS, RETRY_MIN_SECONDS * 2 ** (server.failures - 1))
        server.down_until = time.monotonic() + delay
        # Playwright's first line says why (refused, timeout, no browser on the server); the rest is
        # its call log.
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        extra = {"server": server.label, "retry_in": delay, "error": reason}
        if server.failures == 1:
            log.info("browser server down", extra=extra)
        else:
            log.debug("browser server still down", extra=extra)
        self._wake()

    async def _close_browser(self, server: _Server) -> None:
        browser, server.browser = server.browser, None
        if browser is not None:
            try:
                await browser.close()
            except Exception:  # already gone
                log.debug("browser close failed", extra={"server": server.label}, exc_info=True)
        server.open.clear()


async def _empty(pages: list[Page]) -> None:
    """Empty a parked context of its last task."""
    if pages:  # what the portal kept in page storage (a form draft may hold the patient)
        await pages[0].evaluate("() => { localStorage.clear(); sessionStorage.clear(); }")
    for page in pages[1:]:
        await page.close()
    if pages:
        # One blank page is kept: the next task opens no new tab (and, most often, no new renderer
        # process), and starts on a page that shows nothing of the last task.
        await pages[0].goto("about:blank")


async def _close_pages(context: BrowserContext) -> None:
    for page in list(context.pages):
        await page.close()
