"""One attempt's browser context (runner.core.browser.BrowserAttempt) on the fake browser: the
trace recorded, kept per the plan and redacted of the login's secrets; the session saved unless the
login was refused or expired; the context parked for the next task of its login or closed. And
the fake browser's own rules: warm contexts by key, as the Chromium pool keeps them."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from runner.core.browser import AttemptEnd, BrowserAttempt
from runner.core.fake_browser import FakeBrowser, FakeContext, session_of
from runner.core.tracing import TraceMode, TracePlan
from tests.support.threaded import run_async

PASSWORD = "Canary-Pass-4417!"


class Sessions:
    def __init__(self) -> None:
        self.saved: list[str] = []

    def save(self, state: str) -> None:
        self.saved.append(state)


def attempt(
    browser: FakeBrowser, tmp_path: Path, sessions: Sessions, *, mode: str = "always", attempt_number: int = 1
) -> BrowserAttempt:
    return BrowserAttempt(
        browser,
        storage_state=None,
        warm_key="account:login",
        trace=TracePlan(TraceMode(mode), attempt_number),
        trace_file=tmp_path / "trace.zip",
        secrets=[PASSWORD, ""],
        save_session=sessions.save,
        task_id="t-1",
    )


async def show_the_password(browsing: BrowserAttempt) -> None:
    await browsing.page.set_content(f'<input type="password" value="{PASSWORD}">')


def test_a_kept_trace_is_redacted_of_the_login_secrets(tmp_path: Path) -> None:
    browser, sessions = FakeBrowser(), Sessions()
    browsing = attempt(browser, tmp_path, sessions)

    async def main() -> None:
        async with browsing:
            await show_the_password(browsing)
            browsing.end(AttemptEnd(failed=True))

    run_async(main)
    assert browsing.trace_file == tmp_path / "trace.zip"
    with zipfile.ZipFile(browsing.trace_file) as trace:
        text = trace.read("trace.trace").decode()
    assert "password" in text and PASSWORD not in text
    assert browser.opened[0].closed and browser.in_use == 0


@pytest.mark.parametrize(
    ("mode", "attempt_number", "failed", "kept"),
    [
        ("on-failure", 1, False, False),
        ("on-failure", 1, True, True),
        ("on-all-retries", 1, True, False),  # not even recorded on a first attempt
        ("on-all-retries", 2, False, True),
        ("off", 2, True, False),
    ],
)
def test_the_trace_follows_the_plan(
    tmp_path: Path, mode: str, attempt_number: int, failed: bool, kept: bool
) -> None:
    browser = FakeBrowser()
    browsing = attempt(browser, tmp_path, Sessions(), mode=mode, attempt_number=attempt_number)

    async def main() -> None:
        async with browsing:
            await show_the_password(browsing)
            browsing.end(AttemptEnd(failed=failed))

    run_async(main)
    assert (browsing.trace_file is not None) is kept
    assert (tmp_path / "trace.zip").exists() is kept
    assert browser.opened[0].tracing.started == int(TracePlan(TraceMode(mode), attempt_number).records)


@pytest.mark.parametrize("keep_session", [True, False])
def test_the_session_is_saved_unless_the_login_was_refused_or_expired(
    tmp_path: Path, keep_session: bool
) -> None:
    browser, sessions = FakeBrowser(), Sessions()
    browsing = attempt(browser, tmp_path, sessions)

    async def main() -> None:
        async with browsing:
            await show_the_password(browsing)
            browsing.end(AttemptEnd(failed=not keep_session, keep_session=keep_session))

    run_async(main)
    assert sessions.saved == ([json.dumps(session_of(1))] if keep_session else [])


def test_an_attempt_that_did_not_end_saves_the_session_and_closes(tmp_path: Path) -> None:
    """Cancelled or its lease lost: no verdict, so not kept warm; the trace is kept as if it had
    not failed (on-failure: dropped)."""
    browser, sessions = FakeBrowser(warm_seconds=60), Sessions()
    browsing = attempt(browser, tmp_path, sessions, mode="on-failure")

    class Lost(Exception):
        pass

    async def main() -> None:
        async with browsing:
            await show_the_password(browsing)
            raise Lost

    with pytest.raises(Lost):
        run_async(main)
    assert browser.opened[0].closed and browser.parked == 0
    assert len(sessions.saved) == 1 and browsing.trace_file is None


def test_an_attempt_that_ended_well_is_parked_and_the_next_of_its_login_gets_it(tmp_path: Path) -> None:
    browser, sessions = FakeBrowser(warm_seconds=60), Sessions()

    async def main() -> tuple[list[str], list[str]]:
        first = attempt(browser, tmp_path, sessions)
        async with first:
            await first.page.goto("http://portal.invalid/fake/claims")
            await first.page.set_content("<p>patient A</p>")
            first.end(AttemptEnd(reusable=True))
        assert browser.parked == 1 and browser.in_use == 0
        second = attempt(browser, tmp_path, sessions)
        async with second:
            seen = [second.page.url, await second.page.content()]
            second.end(AttemptEnd(failed=True))
        other = BrowserAttempt(
            browser,
            storage_state=None,
            warm_key="another:login",
            trace=TracePlan(TraceMode.OFF, 1),
            trace_file=tmp_path / "other.zip",
            secrets=[],
            save_session=sessions.save,
            task_id="t-3",
        )
        async with other:
            other.end(AttemptEnd(reusable=True))
        return seen, [str(c.number) for c in browser.opened]

    seen, opened = run_async(main)
    assert seen == ["about:blank", ""]  # the warm page shows nothing of the last task
    assert browser.reused == 1 and opened == ["1", "2"]  # another login got a context of its own
    assert browser.opened[0].closed  # the second attempt failed: not kept again


def test_warm_contexts_off_closes_what_is_parked(tmp_path: Path) -> None:
    browser = FakeBrowser()
    browsing = attempt(browser, tmp_path, Sessions())

    async def main() -> None:
        async with browsing:
            browsing.end(AttemptEnd(reusable=True))

    run_async(main)
    assert browser.parked == 0 and browser.opened[0].closed


def test_the_fake_browser_keeps_at_most_its_cap_warm_and_stop_closes_them() -> None:
    browser = FakeBrowser(warm_seconds=60, max_contexts=2)

    async def main() -> list[FakeContext]:
        contexts = [await browser.new_context(warm_key=f"k{i}") for i in range(3)]
        for i, context in enumerate(contexts):
            await context.new_page()
            await browser.park(context, f"k{i}")
        assert browser.parked == 2 and contexts[0].closed  # the oldest gave way
        await browser.stop()
        return contexts

    contexts = run_async(main)
    assert all(c.closed for c in contexts) and browser.parked == 0 and browser.in_use == 0


def test_a_fake_context_restores_its_storage_state_until_it_signs_in() -> None:
    browser = FakeBrowser()

    async def main() -> tuple[object, object]:
        context = await browser.new_context(storage_state=session_of(7))
        restored = await context.storage_state()
        await context.new_page()
        return restored, await context.storage_state()

    restored, own = run_async(main)
    assert restored == session_of(7) and own == session_of(1)
