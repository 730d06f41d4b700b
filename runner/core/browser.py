"""The browser seam: what the worker needs of a browser, and one attempt's browser context.

`Browser` is implemented by `runner.core.pool.BrowserPool` (Chromium, local or remote) and by
`runner.core.fake_browser.FakeBrowser` (pages from `handlers.fake`, no Chromium), so the engine's
and the worker's rules run in unit tests and Chromium stays in the e2e tier.

`BrowserAttempt` owns one attempt's context from open to close: a warm context of the login, or a
new one restored from its stored session; the Playwright trace (recorded and kept per the
attempt's `TracePlan`, redacted of the login's secrets); and at the end the session's storage
state saved for the next attempt, and the context parked for the next task of the login (an
attempt that ended well) or closed.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Protocol

from runner.core.artifacts import redact_zip
from runner.core.errors import SopwrightError
from runner.core.tracing import TracePlan

if TYPE_CHECKING:
    from playwright.async_api import Page, StorageState

log = logging.getLogger(__name__)


class BrowserUnavailable(SopwrightError):
    """No browser server could give a context in time (all down, or all at their cap)."""

    code = "browser_unavailable"


class Tracing(Protocol):
    async def start(self, *, screenshots: bool | None = None, snapshots: bool | None = None) -> object: ...

    async def stop(self, *, path: str | None = None) -> None: ...


class Context(Protocol):
    """What an attempt needs of a browser context: its page, its trace, its session, closing."""

    @property
    def pages(self) -> Sequence[Page]: ...

    @property
    def tracing(self) -> Tracing: ...

    async def new_page(self) -> Page: ...

    async def storage_state(self) -> StorageState: ...

    async def close(self) -> None: ...


class Browser(Protocol):
    """What the worker needs of a browser: start and stop it, a context per attempt (restored from
    a session's storage state, or the warm one kept under `warm_key`), a context handed back for
    the next task of its key, and how many contexts are in use."""

    @property
    def in_use(self) -> int: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def new_context(
        self, *, storage_state: StorageState | None = None, warm_key: str | None = None
    ) -> Context: ...

    async def park(self, context: Context, warm_key: str) -> None:
        """Keep `context` for the next task of `warm_key` (emptied of this task), or close it."""
        ...


@dataclass(frozen=True)
class AttemptEnd:
    """How an attempt ended, as far as its browser context is concerned."""

    failed: bool = False  # an error or a FAILED outcome: a trace kept "on-failure" is kept
    keep_session: bool = True  # False after a refused login or an expired session
    reusable: bool = False  # ended well: the context may serve the next task of its login


class BrowserAttempt:
    """One attempt's browser context, as an async context manager:

        async with BrowserAttempt(browser, ...) as attempt:
            ... run the SOP on attempt.page ...
            attempt.end(AttemptEnd(failed=..., keep_session=..., reusable=...))

    An attempt left without `end` (cancelled, lease lost) keeps its trace per the plan as if it
    had not failed, saves the session, and closes the context. `trace_file` is the kept trace
    after the block, if any.
    """

    def __init__(
        self,
        browser: Browser,
        *,
        storage_state: StorageState | None,
        warm_key: str,
        trace: TracePlan,
        trace_file: Path,
        secrets: Sequence[str],
        save_session: Callable[[str], None] | None,
        task_id: str,
    ) -> None:
        """`secrets` are redacted from a kept trace; `save_session(storage_state_json)` stores the
        session (it is called in a thread: it writes to the database; None: the session is not
        stored); `task_id` is for logs."""
        self._task_id = task_id
        self._browser = browser
        self._storage_state = storage_state
        self._warm_key = warm_key
        self._trace = trace
        self._trace_target = trace_file
        self._secrets = [s for s in secrets if s]
        self._save_session = save_session
        self._context: Context | None = None
        self._page: Page | None = None
        self._end = AttemptEnd()
        self.trace_file: Path | None = None

    @property
    def page(self) -> Page:
        if self._page is None:
            raise RuntimeError("BrowserAttempt.page is used outside its `async with` block")
        return self._page

    def end(self, how: AttemptEnd) -> None:
        self._end = how

    async def __aenter__(self) -> BrowserAttempt:
        context = await self._browser.new_context(storage_state=self._storage_state, warm_key=self._warm_key)
        try:
            if self._trace.records:
                await context.tracing.start(screenshots=True, snapshots=True)
            # A warm context hands over its emptied page; a new context opens one.
            self._page = context.pages[0] if context.pages else await context.new_page()
        except BaseException:
            await context.close()
            raise
        self._context = context
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        context, self._context = self._context, None
        assert context is not None
        end = self._end
        try:
            if self._trace.records:
                self.trace_file = await self._stop_trace(context, keep=self._trace.keeps(failed=end.failed))
            if end.keep_session and self._save_session is not None:
                await self._store_session(context, self._save_session)
        finally:
            if end.reusable:
                await self._browser.park(context, self._warm_key)
            else:
                await context.close()

    async def _stop_trace(self, context: Context, *, keep: bool) -> Path | None:
        """Stop the trace; the kept file (redacted: it holds the typed password), or None."""
        target = self._trace_target
        try:
            await context.tracing.stop(path=str(target) if keep else None)
            if not keep:
                return None
            try:
                await asyncio.to_thread(redact_zip, target, self._secrets)
            except Exception:
                target.unlink(missing_ok=True)  # not kept at all rather than kept unredacted
                raise
            return target
        except Exception:
            log.warning("trace could not be saved", extra={"task_id": self._task_id})
            return None

    async def _store_session(self, context: Context, save: Callable[[str], None]) -> None:
        try:
            state = json.dumps(await context.storage_state())
        except Exception:  # the context or its browser is gone: keep the last stored session
            return
        await asyncio.to_thread(save, state)
