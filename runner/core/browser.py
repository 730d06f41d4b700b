"""One Chromium per worker process; one isolated context per task."""

from __future__ import annotations

import logging
from typing import Any

from playwright.async_api import Browser, BrowserContext, Playwright, async_playwright

from handlers.browser import launch_options

log = logging.getLogger(__name__)


class BrowserPool:
    def __init__(self, *, executable: str | None = None, headless: bool = True, slow_mo: float = 0) -> None:
        self._executable = executable
        self._headless = headless
        self._slow_mo = slow_mo
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self._open: set[BrowserContext] = set()

    @property
    def in_use(self) -> int:
        """Browser contexts open right now (one per running task), across all browsers."""
        return len(self._open)

    async def start(self) -> None:
        options = launch_options(self._executable, headless=self._headless, slow_mo=self._slow_mo)
        self._playwright = await async_playwright().start()
        self._browser = await self._playwright.chromium.launch(**options)  # type: ignore[arg-type]
        log.info("browser started", extra={"version": self._browser.version})

    async def new_context(self, *, storage_state: dict[str, Any] | None = None) -> BrowserContext:
        if self._browser is None or not self._browser.is_connected():
            log.warning("browser gone; starting a new one")
            await self.stop()
            await self.start()
        assert self._browser is not None
        context = await self._browser.new_context(
            storage_state=storage_state,  # type: ignore[arg-type]
            viewport={"width": 1280, "height": 900},
            accept_downloads=False,
        )
        self._open.add(context)
        context.on("close", lambda closed: self._open.discard(closed))
        return context

    async def stop(self) -> None:
        if self._browser is not None:
            try:
                await self._browser.close()
            except Exception:  # already gone
                log.debug("browser close failed", exc_info=True)
            self._browser = None
        self._open.clear()
        if self._playwright is not None:
            await self._playwright.stop()
            self._playwright = None
