"""Warm contexts: a finished task's browser context kept for the next task of the same key.

A task that ended well leaves its context under its key (its account, portal login and session
slot); the next task of that key gets it back instead of a new context restored from the stored
session: signed in already, its HTTP cache and connections warm. Keys never mix: another account,
login or slot never gets it. One context per key is kept (a key is one portal session: a newer
context of it replaces the older). A kept context is closed after `seconds` unused, to keep at
most `limit` (the longest-kept goes first), when its browser wants the slot for another context,
or when the browser stops.

A kept context may hold a page (and so a renderer process, about 35-40 MB): `shed(room)` closes
the pages of the longest-kept ones until at most `room` hold one, and the context stays kept
without. The browser decides the room (`runner.core.pool`: pages in use plus kept pages within
its page budget). Emptying a context of its last task is the browser's too (`runner.core.pool`,
`runner.core.fake_browser`); it runs in the background from `keep` (its page's storage cleared,
the page taken to about:blank: 12-15 ms of a claim's wall time at 0 ms portal latency that the
task's own ending and the next claim no longer wait for). A context is handed out only once it is
emptied and any page close is done; one that cannot be emptied is closed, never handed out.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from runner.core.browser import Context

log = logging.getLogger(__name__)

C = TypeVar("C", bound=Context)


@dataclass(eq=False)
class _Kept(Generic[C]):
    key: str
    context: C
    usable: Callable[[], bool]
    label: str
    close_page: Callable[[], Awaitable[None]] | None  # None: it holds no page
    timer: asyncio.TimerHandle | None = None
    # Its emptying (`keep`) or its page's close (`shed`), under way: a taker waits for it.
    busy: asyncio.Future[None] | None = None


class WarmContexts(Generic[C]):
    def __init__(self, *, seconds: float, limit: int) -> None:
        self._seconds = seconds
        self._limit = limit
        self._kept: list[_Kept[C]] = []  # longest-kept first
        self._closing: set[asyncio.Task[None]] = set()  # contexts that could not be emptied

    @property
    def enabled(self) -> bool:
        return self._seconds > 0

    def __len__(self) -> int:
        return len(self._kept)

    @property
    def pages(self) -> int:
        """Kept contexts that still hold a page."""
        return sum(1 for warm in self._kept if warm.close_page is not None)

    async def keep(
        self,
        key: str,
        context: C,
        *,
        usable: Callable[[], bool],
        label: str = "",
        close_page: Callable[[], Awaitable[None]] | None = None,
        emptying: Awaitable[None] | None = None,
    ) -> None:
        """Keep `context` under `key`; `usable()` says later whether it can still serve a task
        (its browser still connected, the context still open); `label` names its browser in logs;
        `close_page()` closes the page it holds (None: it holds none); `emptying` empties it of its
        last task, run from now on in the background (if it fails, the context is closed)."""
        for older in [warm for warm in self._kept if warm.key == key]:
            await self._expire(older)  # one portal session, one context: the newest
        while len(self) >= self._limit:  # never more warm than the browser could run at once
            await self.evict()
        kept = _Kept(key, context, usable, label, close_page)
        if emptying is not None:
            kept.busy = asyncio.ensure_future(emptying)
            kept.busy.add_done_callback(functools.partial(self._emptied, kept))
        kept.timer = asyncio.get_running_loop().call_later(
            self._seconds, lambda: asyncio.ensure_future(self._expire(kept))
        )
        self._kept.append(kept)
        log.debug("warm browser context kept", extra={"server": label, "parked": len(self)})

    def _emptied(self, kept: _Kept[C], done: asyncio.Future[None]) -> None:
        failed = done.cancelled() or done.exception() is not None  # (retrieved: no warning)
        if kept.busy is done and not failed:
            kept.busy = None
        if failed and kept in self._kept:  # (a taker that waited on it closes it itself)
            log.debug("warm browser context could not be emptied; closing it")
            closing = asyncio.ensure_future(self._expire(kept))
            self._closing.add(closing)
            closing.add_done_callback(self._closing.discard)

    async def take(self, key: str) -> C | None:
        """The context kept under `key` if it is still usable (it leaves the kept ones either way);
        if it is being emptied or its page closed (`shed`), once that is done."""
        warm = next((w for w in reversed(self._kept) if w.key == key), None)
        if warm is None:
            return None
        self._kept.remove(warm)
        if warm.timer is not None:
            warm.timer.cancel()
        if warm.busy is not None:
            try:
                await asyncio.shield(warm.busy)
            except Exception:  # not emptied, or its page would not close: not handed out
                await _close_quietly(warm.context)
                return None
        # Not usable: closed under us (its browser is gone); the next task gets a new one.
        return warm.context if warm.usable() else None

    async def shed(self, room: int) -> None:
        """Close the pages of the longest-kept contexts until at most `room` kept ones hold one;
        a context whose page will not close is closed."""
        for warm in [w for w in self._kept if w.close_page is not None][: max(0, self.pages - room)]:
            close_page, warm.close_page = warm.close_page, None
            if close_page is None or warm not in self._kept:
                continue
            warm.busy = closing = asyncio.ensure_future(_after(warm.busy, close_page))
            try:
                await asyncio.shield(closing)
            except Exception:
                log.debug("warm browser context page close failed", exc_info=True)
                await self._expire(warm)
            finally:
                if warm.busy is closing:
                    warm.busy = None

    async def evict(self) -> bool:
        """Close the longest-kept context; False if there is none."""
        if not self._kept:
            return False
        await self._expire(self._kept[0])
        return True

    async def close_all(self) -> None:
        while await self.evict():
            pass

    async def _expire(self, warm: _Kept[C]) -> None:
        if warm not in self._kept:
            return
        self._kept.remove(warm)
        if warm.timer is not None:
            warm.timer.cancel()
        await _close_quietly(warm.context)
        log.debug("warm browser context closed", extra={"server": warm.label, "parked": len(self)})


async def _after(first: Awaitable[None] | None, then: Callable[[], Awaitable[None]]) -> None:
    """`then()` once `first` (if any) is done; `first`'s error is this one's (`then` never runs)."""
    if first is not None:
        await first
    await then()


async def _close_quietly(context: Context) -> None:
    try:
        await context.close()
    except Exception:  # its browser is already gone
        log.debug("warm browser context close failed", exc_info=True)
