"""Per-page watchers a step installs once: the last document response (for the portal's
Retry-After) and the idle-timeout modal (answered "stay signed in" whenever it gets in the way).

Pages are the key. A page may serve several tasks of one login (the runner's warm contexts): the
watchers are the same for each, and the record of the last document is rewritten by the next
task's first navigation.
"""

from __future__ import annotations

import logging
import weakref
from dataclasses import dataclass

from playwright.async_api import Locator, Page, Response

ACTION_TIMEOUT_MS = 15_000  # a click or fill whose element never shows fails well before the lease
log = logging.getLogger("sopwright.steps")


@dataclass
class LastDocument:
    """What the most recent HTML document the page (or one of its frames) loaded said about
    retrying: the Retry-After of a 503 maintenance or 429 rate-limit page."""

    retry_after: float | None = None


_documents: weakref.WeakKeyDictionary[Page, LastDocument] = weakref.WeakKeyDictionary()
_idle_handled: weakref.WeakSet[Page] = weakref.WeakSet()


def watch_documents(page: Page) -> LastDocument:
    """Start (once per page) remembering the last document response; returns the live record."""
    last = _documents.get(page)
    if last is None:
        last = LastDocument()
        _documents[page] = last

        def seen(response: Response) -> None:
            if response.request.resource_type == "document":
                last.retry_after = _seconds(response.headers.get("retry-after"))

        page.on("response", seen)
    return last


def last_document(page: Page) -> LastDocument:
    return _documents.get(page) or LastDocument()


async def keep_session_alive(page: Page, modal: Locator, stay: Locator) -> None:
    """Answer the "are you still there?" modal whenever it covers what a step wants to click.

    Portals show it after a stretch without page loads (a long form, a slow upload); answering it
    sends the keep-alive request, so the session survives a step that takes long.
    """
    if page in _idle_handled:
        return
    _idle_handled.add(page)

    async def stay_signed_in() -> None:
        await stay.click()
        log.info("idle warning answered: stayed signed in")

    await page.add_locator_handler(modal, stay_signed_in, no_wait_after=True)


def _seconds(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value.strip()))
    except ValueError:
        return None  # an HTTP date: rare on portals, and a retry with backoff is fine


async def prepare_page(page: Page, *, idle_modal: Locator, stay_signed_in: Locator) -> None:
    """Everything a step needs on its page, installed once per page (every step calls this)."""
    if page not in _documents:
        page.set_default_timeout(ACTION_TIMEOUT_MS)
    watch_documents(page)
    await keep_session_alive(page, idle_modal, stay_signed_in)
