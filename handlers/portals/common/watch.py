"""Per-page watchers a step installs once: the last document response (for the portal's
Retry-After) and the idle-timeout modal (answered "stay signed in" by a script in the page, see
`idle`; installed once per browser context).

Pages are the key. A page may serve several tasks of one login (the runner's warm contexts): the
watchers are the same for each, and the record of the last document is rewritten by the next
task's first navigation.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

from playwright.async_api import Page, Response

from handlers.portals.common.idle import IdleModal, answer_idle_modal

ACTION_TIMEOUT_MS = 15_000  # a click or fill whose element never shows fails well before the lease


@dataclass
class LastDocument:
    """What the most recent HTML document the page (or one of its frames) loaded said about
    retrying: the Retry-After of a 503 maintenance or 429 rate-limit page."""

    retry_after: float | None = None


_documents: weakref.WeakKeyDictionary[Page, LastDocument] = weakref.WeakKeyDictionary()


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


def _seconds(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value.strip()))
    except ValueError:
        return None  # an HTTP date: rare on portals, and a retry with backoff is fine


async def prepare_page(page: Page, *, idle_modal: IdleModal) -> None:
    """Everything a step needs on its page, installed once per page (every step calls this)."""
    if page not in _documents:
        page.set_default_timeout(ACTION_TIMEOUT_MS)
    watch_documents(page)
    await answer_idle_modal(page, idle_modal)
