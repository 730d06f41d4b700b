"""Warm contexts: a finished task's browser context kept for the next task of the same key.

A task that ended well leaves its context under its key (its account and portal login); the next
task of that key gets it back instead of a new context restored from the stored session: signed
in already, its HTTP cache and connections warm. Keys never mix: another account or login never
gets it. A kept context is closed after `seconds` unused, to keep at most `limit` (the oldest
goes first), when its browser wants the slot for another context, or when the browser stops.

This is the keeping only; emptying a context of its last task before it is kept is the browser's
(`runner.core.pool`, `runner.core.fake_browser`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from runner.core.browser import Context

log = logging.getLogger(__name__)

C = TypeVar("C", bound=Context)


@dataclass(eq=False)
class _Kept(Generic[C]):
    context: C
    usable: Callable[[], bool]
    label: str
    timer: asyncio.TimerHandle | None = None


class WarmContexts(Generic[C]):
    def __init__(self, *, seconds: float, limit: int) -> None:
        self._seconds = seconds
        self._limit = limit
        self._kept: dict[str, list[_Kept[C]]] = {}

    @property
    def enabled(self) -> bool:
        return self._seconds > 0

    def __len__(self) -> int:
        return sum(len(kept) for kept in self._kept.values())

    async def keep(self, key: str, context: C, *, usable: Callable[[], bool], label: str = "") -> None:
        """Keep `context` under `key`; `usable()` says later whether it can still serve a task
        (its browser still connected, the context still open); `label` names its browser in logs."""
        while len(self) >= self._limit:  # never more warm than the browser could run at once
            await self.evict()
        kept = _Kept(context, usable, label)
        kept.timer = asyncio.get_running_loop().call_later(
            self._seconds, lambda: asyncio.ensure_future(self._expire(key, kept))
        )
        self._kept.setdefault(key, []).append(kept)

    def take(self, key: str) -> C | None:
        """The most recently kept usable context of `key` (the likeliest to still be signed in)."""
        kept = self._kept.get(key, [])
        while kept:
            warm = kept.pop()
            if warm.timer is not None:
                warm.timer.cancel()
            if warm.usable():
                if not kept:
                    self._kept.pop(key, None)
                return warm.context
        self._kept.pop(key, None)
        return None

    async def evict(self) -> bool:
        """Close the longest-kept context; False if there is none."""
        for key, kept in list(self._kept.items()):
            for warm in kept:
                if warm.timer is not None:
                    warm.timer.cancel()
                await self._expire(key, warm)
                return True
        return False

    async def close_all(self) -> None:
        while await self.evict():
            pass

    async def _expire(self, key: str, warm: _Kept[C]) -> None:
        kept = self._kept.get(key, [])
        if warm in kept:
            kept.remove(warm)
            if not kept:
                self._kept.pop(key, None)
            try:
                await warm.context.close()
            except Exception:  # its browser is already gone
                log.debug("warm browser context close failed", exc_info=True)
            log.debug("warm browser context closed (idle)", extra={"server": warm.label})
