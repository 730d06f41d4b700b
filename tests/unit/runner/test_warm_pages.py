"""Warm contexts and memory (runner.core.warm, on the fake browser as the Chromium pool keeps
them): one parked context per key (a key is one portal session); parked contexts keep their page
(a renderer process) only within the page budget left by the contexts in use, longest-parked
first to lose it; a context whose page is being closed is handed over only once it is closed; a
page that will not close takes its context with it; a parked context is emptied in the background,
handed over only once emptied, and closed if it cannot be."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from pathlib import Path

from runner.core.browser import AttemptEnd, BrowserAttempt
from runner.core.fake_browser import FakeBrowser, FakeContext
from runner.core.tracing import TraceMode, TracePlan
from runner.core.warm import WarmContexts
from tests.support.threaded import run_async


async def finish(browser: FakeBrowser, key: str, html: str = "<p>patient A</p>") -> FakeContext:
    """A task of `key` that ended well: its context (a page that showed `html`) is parked."""
    context = await browser.new_context(warm_key=key)
    page = context.pages[0] if context.pages else await context.new_page()
    await page.set_content(html)
    await browser.park(context, key)
    return context


def test_one_context_per_key_is_kept_the_newest() -> None:
    browser = FakeBrowser(warm_seconds=60)

    async def main() -> tuple[FakeContext, FakeContext, FakeContext | None]:
        older = await browser.new_context(warm_key="a:login:0")
        newer = await browser.new_context(warm_key="a:login:0")  # nothing parked yet: a new one
        await older.new_page()
        await newer.new_page()
        await browser.park(older, "a:login:0")
        await browser.park(newer, "a:login:0")
        assert browser.parked == 1
        return older, newer, await browser.new_context(warm_key="a:login:0")

    older, newer, taken = run_async(main)
    assert older.closed and taken is newer and not newer.closed


def test_parked_contexts_keep_their_page_only_within_the_budget_left_by_those_in_use() -> None:
    browser = FakeBrowser(warm_seconds=60, max_pages=2)

    async def main() -> list[FakeContext]:
        first = await finish(browser, "a:login:0")
        second = await finish(browser, "a:login:1")
        assert browser.parked == 2 and browser.parked_pages == 2  # nothing in use: room for both
        running = await browser.new_context(warm_key="b:login:0")  # a task of another key
        assert browser.in_use == 1 and browser.parked_pages == 1
        assert not first.pages and second.pages  # the longest-parked lost its page first
        await running.new_page()
        third = await browser.new_context(warm_key="c:login:0")
        assert browser.in_use == 2 and browser.parked_pages == 0 and browser.parked == 2
        await third.close()
        await running.close()
        return [first, second]

    first, second = run_async(main)
    assert not first.closed and not second.closed  # kept, signed in, without a page


def test_a_context_parked_without_its_page_serves_its_key_with_a_new_page(tmp_path: Path) -> None:
    browser = FakeBrowser(warm_seconds=60, max_pages=1)

    async def main() -> list[object]:
        parked = await finish(browser, "a:login:0")
        other = await browser.new_context(warm_key="b:login:0")
        assert not parked.pages and browser.parked == 1
        await other.close()
        browsing = BrowserAttempt(
            browser,
            storage_state=None,
            warm_key="a:login:0",
            trace=TracePlan(TraceMode.OFF, 1),
            trace_file=tmp_path / "trace.zip",
            secrets=[],
            save_session=None,
            task_id="t-2",
        )
        async with browsing:
            seen = [await browsing.page.content(), len(parked.fake_pages), len(parked.pages)]
            browsing.end(AttemptEnd(reusable=True))
        return [browser.reused, *seen, browser.parked_pages]

    reused, content, made, pages, parked_pages = run_async(main)
    assert reused == 1 and made == 2 and pages == 1  # a new page: its first one was closed
    assert "patient" not in content  # nothing of the last task
    assert parked_pages == 1  # parked again, with its page (nothing else in use)


class SlowPage:
    """A page close that waits until the test lets it finish (or fails)."""

    def __init__(self, fail: bool = False) -> None:
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.fail = fail
        self.closed = False

    async def close(self) -> None:
        self.started.set()
        await self.release.wait()
        if self.fail:
            raise RuntimeError("Target page, context or browser has been closed")
        self.closed = True


def test_a_context_whose_page_is_closing_is_handed_over_once_it_is_closed() -> None:
    async def main() -> tuple[bool, bool, bool]:
        browser = FakeBrowser()
        context = await browser.new_context()
        warm: WarmContexts[FakeContext] = WarmContexts(seconds=60, limit=8)
        page = SlowPage()
        await warm.keep("a:login:0", context, usable=lambda: not context.closed, close_page=page.close)
        shedding = asyncio.ensure_future(warm.shed(0))
        await page.started.wait()
        taking = asyncio.ensure_future(warm.take("a:login:0"))
        await asyncio.sleep(0)
        waited = not taking.done()
        page.release.set()
        taken = await taking
        await shedding
        return waited, taken is context and page.closed, len(warm) == 0

    waited, handed_over_closed, none_left = run_async(main)
    assert waited and handed_over_closed and none_left


def test_a_page_that_will_not_close_takes_its_context_with_it() -> None:
    async def main() -> tuple[bool, FakeContext | None, int]:
        browser = FakeBrowser()
        context = await browser.new_context()
        warm: WarmContexts[FakeContext] = WarmContexts(seconds=60, limit=8)
        page = SlowPage(fail=True)
        page.release.set()
        await warm.keep("a:login:0", context, usable=lambda: not context.closed, close_page=page.close)
        await warm.shed(0)
        return context.closed, await warm.take("a:login:0"), len(warm)

    closed, taken, left = run_async(main)
    assert closed and taken is None and left == 0


def test_a_page_that_will_not_close_while_taken_is_not_handed_over() -> None:
    async def main() -> tuple[bool, FakeContext | None]:
        browser = FakeBrowser()
        context = await browser.new_context()
        warm: WarmContexts[FakeContext] = WarmContexts(seconds=60, limit=8)
        page = SlowPage(fail=True)
        await warm.keep("a:login:0", context, usable=lambda: not context.closed, close_page=page.close)
        shedding = asyncio.ensure_future(warm.shed(0))
        await page.started.wait()
        taking = asyncio.ensure_future(warm.take("a:login:0"))
        await asyncio.sleep(0)
        page.release.set()
        taken = await taking
        await shedding
        return context.closed, taken

    closed, taken = run_async(main)
    assert closed and taken is None


class HeldEmptying:
    """Parked contexts' emptying, held until the test lets it run (or fail)."""

    def __init__(self, fail: bool = False) -> None:
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.fail = fail

    async def __call__(self, empty: Awaitable[None]) -> None:
        self.started.set()
        await self.release.wait()
        if self.fail:
            empty.close()  # type: ignore[attr-defined]  # (a coroutine never awaited)
            raise RuntimeError("Target page, context or browser has been closed")
        await empty


def test_a_parked_context_is_handed_over_only_once_it_is_emptied() -> None:
    held = HeldEmptying()
    browser = FakeBrowser(warm_seconds=60, emptying=held)

    async def main() -> tuple[bool, bool, str]:
        parked = await finish(browser, "a:login:0")  # park returns with the emptying under way
        await held.started.wait()
        taking = asyncio.ensure_future(browser.new_context(warm_key="a:login:0"))
        await asyncio.sleep(0)
        waited = not taking.done()
        held.release.set()
        taken = await taking
        return waited, taken is parked, await taken.pages[0].content()

    waited, same, content = run_async(main)
    assert waited and same
    assert "patient" not in content


def test_a_context_that_cannot_be_emptied_is_closed_and_never_handed_over() -> None:
    held = HeldEmptying(fail=True)
    browser = FakeBrowser(warm_seconds=60, emptying=held)

    async def main() -> tuple[FakeContext, FakeContext, FakeContext]:
        taken_while_emptied = await finish(browser, "a:login:0")
        taking = asyncio.ensure_future(browser.new_context(warm_key="a:login:0"))
        await held.started.wait()
        held.release.set()
        new = await taking
        assert new is not taken_while_emptied
        held.started.clear()
        left_parked = await finish(browser, "b:login:0")
        await held.started.wait()
        for _ in range(3000):  # closed once its emptying fails, with no one taking it
            if not browser.parked:
                break
            await asyncio.sleep(0.01)
        return taken_while_emptied, new, left_parked

    taken_while_emptied, new, left_parked = run_async(main)
    assert taken_while_emptied.closed and not new.closed and left_parked.closed
