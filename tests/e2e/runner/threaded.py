"""Run a coroutine to completion on a fresh event loop in its own thread.

pytest-playwright's sync API keeps an event loop running in the main thread for the whole
session, so `asyncio.run` there fails once a sync-Playwright test has run. The worker and its
async Playwright get a thread of their own instead.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run_async(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    outcome: dict[str, Any] = {}

    def main() -> None:
        try:
            outcome["value"] = asyncio.run(make())
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=main, name="async-test-runner")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]  # type: ignore[no-any-return]
