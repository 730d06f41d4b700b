"""Which attempts record a Playwright trace and which traces are kept, per SOPWRIGHT_TRACE."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from runner.core.settings import Settings
from runner.core.tracing import DEFAULT_TRACE_MODE, TraceMode, TracePlan


def plan(mode: str, attempt: int) -> TracePlan:
    return TracePlan(TraceMode(mode), attempt)


def test_the_default_traces_retries_only() -> None:
    assert DEFAULT_TRACE_MODE is TraceMode.ON_ALL_RETRIES
    assert Settings().trace is TraceMode.ON_ALL_RETRIES


@pytest.mark.parametrize(
    ("mode", "recorded"),
    [
        ("on-all-retries", [False, True, True, True]),
        ("on-first-retry", [False, True, False, False]),
        ("on-failure", [True, True, True, True]),
        ("always", [True, True, True, True]),
        ("off", [False, False, False, False]),
    ],
)
def test_which_attempts_record_a_trace(mode: str, recorded: list[bool]) -> None:
    assert [plan(mode, attempt).records for attempt in (1, 2, 3, 4)] == recorded


def test_a_first_attempt_records_nothing_and_keeps_nothing_by_default() -> None:
    first = TracePlan(DEFAULT_TRACE_MODE, 1)
    assert not first.records
    assert not first.keeps(failed=True) and not first.keeps(failed=False)


@pytest.mark.parametrize("mode", ["on-all-retries", "on-first-retry", "always"])
def test_a_recorded_trace_is_kept_whatever_the_outcome(mode: str) -> None:
    retry = plan(mode, 2)
    assert retry.keeps(failed=True) and retry.keeps(failed=False)


def test_on_failure_keeps_only_a_failed_attempts_trace() -> None:
    assert plan("on-failure", 1).keeps(failed=True)
    assert not plan("on-failure", 1).keeps(failed=False)


def test_off_keeps_nothing() -> None:
    assert not plan("off", 2).keeps(failed=True)


def test_an_unknown_mode_is_refused_with_the_choices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOPWRIGHT_TRACE", "on-retry")
    with pytest.raises(ValidationError, match="'on-first-retry', 'on-all-retries', 'on-failure'"):
        Settings()
