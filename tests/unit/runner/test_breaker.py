"""The circuit breaker's rules, pure (runner/core/breaker.py): no database, no browser, a fake clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeout

from handlers.errors import (
    InputProblem,
    LoginRefused,
    NeedsInput,
    NeedsReview,
    PortalChanged,
    PortalUnavailable,
    SessionExpired,
    Transient,
)
from runner.core import breaker
from runner.core.breaker import Admit, BreakerRules, PortalState, Signal, Wait
from runner.core.portal_faults import verdict
from runner.core.tables import PortalHealth

T0 = datetime(2026, 12, 5, 2, 0, tzinfo=UTC)
RULES = BreakerRules(threshold=3, backoff_seconds=60, max_backoff_seconds=300, alert_after_seconds=1800)
DOWN = PortalUnavailable("The Acme Health portal is down for maintenance.", retry_after=3600)


def signal_of(error: BaseException | None) -> Signal:
    return verdict(error).signal


def fresh() -> PortalHealth:
    return PortalHealth(key="portal.example:8443", updated_at=T0)


def fault(row: PortalHealth, task_id: str, *, token: int = 1, at: datetime = T0) -> list[str]:
    return breaker.on_fault(
        row, task_id=task_id, token=token, reason="down for maintenance", now=at, rules=RULES
    )


def tripped() -> PortalHealth:
    row = fresh()
    for n in range(RULES.threshold):
        fault(row, f"t{n}")
    return row


@pytest.mark.parametrize(
    "error",
    [
        DOWN,
        PortalUnavailable("The Beacon Exchange portal answered with a server error."),
        PlaywrightTimeout("Timeout 30000ms exceeded."),
        PlaywrightError("net::ERR_CONNECTION_REFUSED at https://portal.example/login"),
    ],
    ids=["maintenance", "5xx", "timeout", "connection"],
)
def test_portal_side_faults_count(error: BaseException) -> None:
    assert signal_of(error) is Signal.FAULT


@pytest.mark.parametrize(
    "error",
    [
        None,  # an outcome: completed, or a business failure such as member not found
        NeedsInput("the member id does not match", problems=[InputProblem("member_id", "no match")]),
        NeedsReview("a CAPTCHA"),
        LoginRefused("bad password"),
        PortalChanged("the claim form never appeared"),
        Transient("The portal is limiting requests (too many requests).", retry_after=60),
        SessionExpired("signed out mid-task"),
    ],
    ids=["outcome", "needs-input", "review", "login-refused", "page-changed", "rate-limit", "signed-out"],
)
def test_task_side_errors_are_answers_from_the_portal(error: BaseException | None) -> None:
    assert signal_of(error) is Signal.ANSWERED


def test_errors_that_say_nothing_of_the_portal_count_neither_way() -> None:
    assert signal_of(RuntimeError("a bug")) is Signal.NOTHING
    assert signal_of(PlaywrightError("Target page, context or browser has been closed")) is Signal.NOTHING


def test_fault_reasons_keep_no_url() -> None:
    error = PlaywrightError("net::ERR_NAME_NOT_RESOLVED at https://portal.example/elig?member=SYN100001")
    assert verdict(error).reason == "the portal could not be reached (ERR_NAME_NOT_RESOLVED)"
    assert (
        verdict(PlaywrightTimeout("Timeout at https://x/?m=1")).reason == "the portal did not answer in time"
    )
    assert verdict(DOWN).reason == "The Acme Health portal is down for maintenance."


def test_the_threshold_trips_and_hands_back_the_streak() -> None:
    row = fresh()
    assert fault(row, "a") == [] and fault(row, "b") == []
    assert row.state == PortalState.UP and row.streak == ["a", "b"]
    assert fault(row, "c") == ["a", "b"]  # c's own attempt is given back by its caller
    assert row.state == PortalState.DOWN and row.down_since == T0
    assert row.next_probe_at == T0 + timedelta(seconds=60) and row.streak == []


def test_an_answer_between_faults_resets_the_count() -> None:
    row = fresh()
    fault(row, "a")
    fault(row, "b")
    assert breaker.on_answer(row, now=T0) is False  # it was up: nothing to resume
    assert row.consecutive_faults == 0 and row.streak == []
    fault(row, "c")
    fault(row, "d")
    assert row.state == PortalState.UP


def test_faults_interleaved_with_answers_never_trip() -> None:
    row = fresh()
    for n in range(10):  # a fault, then an answer (say a member not found), and again
        fault(row, f"f{n}") if n % 2 else breaker.on_answer(row, now=T0)
    assert row.state == PortalState.UP


def test_a_down_portal_holds_its_tasks_until_the_probe_time() -> None:
    row = tripped()
    early = breaker.admit(
        row, task_id="x", token=1, probe_live=False, now=T0 + timedelta(seconds=59), rules=RULES
    )
    assert early == Wait(T0 + timedelta(seconds=60), "down for maintenance")


def test_one_probe_at_a_time() -> None:
    row = tripped()
    at = T0 + timedelta(seconds=60)
    assert breaker.admit(row, task_id="p", token=4, probe_live=False, now=at, rules=RULES) == Admit(
        probe=True
    )
    assert row.state == PortalState.PROBING and (row.probe_task_id, row.probe_token) == ("p", 4)
    other = breaker.admit(row, task_id="q", token=1, probe_live=True, now=at, rules=RULES)
    assert isinstance(other, Wait) and other.reason == "another task is checking it now"
    # The probe's worker died (its task's lease is gone): the next task probes instead.
    again = breaker.admit(row, task_id="q", token=1, probe_live=False, now=at, rules=RULES)
    assert again == Admit(probe=True) and row.probe_task_id == "q"


def test_failed_probes_back_off_doubling_up_to_the_cap() -> None:
    row = tripped()
    at = T0 + timedelta(seconds=60)
    waits = []
    for n in range(5):
        assert breaker.admit(row, task_id=f"p{n}", token=1, probe_live=False, now=at, rules=RULES).probe  # type: ignore[union-attr]
        fault(row, f"p{n}", at=at)
        assert row.state == PortalState.DOWN and row.probe_task_id is None
        assert row.next_probe_at is not None
        waits.append((row.next_probe_at - at).total_seconds())
        at = row.next_probe_at
    assert waits == [120, 240, 300, 300, 300]


def test_a_fault_of_a_task_that_is_not_the_probe_moves_nothing() -> None:
    row = tripped()
    at = T0 + timedelta(seconds=60)
    breaker.admit(row, task_id="p", token=1, probe_live=False, now=at, rules=RULES)
    fault(row, "in-flight", at=at)  # claimed before the trip, ended after it
    assert row.state == PortalState.PROBING and row.probe_task_id == "p"
    assert row.next_probe_at == T0 + timedelta(seconds=60)


def test_an_answer_closes_the_breaker_and_resumes() -> None:
    row = tripped()
    breaker.admit(row, task_id="p", token=1, probe_live=False, now=T0 + timedelta(seconds=60), rules=RULES)
    assert breaker.on_answer(row, now=T0 + timedelta(seconds=61)) is True
    assert row.state == PortalState.UP and row.consecutive_faults == 0 and row.probe_task_id is None
    assert row.down_since is None and row.next_probe_at is None and row.probe_failures == 0
    assert breaker.admit(row, task_id="x", token=1, probe_live=False, now=T0, rules=RULES) == Admit()


def test_portal_down_is_due_after_the_delay_once() -> None:
    row = tripped()
    assert not breaker.alert_due(row, now=T0 + timedelta(seconds=1799), rules=RULES)
    assert breaker.alert_due(row, now=T0 + timedelta(seconds=1800), rules=RULES)
    row.alerted_at = T0 + timedelta(seconds=1800)
    assert not breaker.alert_due(row, now=T0 + timedelta(hours=5), rules=RULES)
    breaker.on_answer(row, now=T0 + timedelta(hours=6))
    assert row.alerted_at is None  # the next outage alerts again


def test_threshold_zero_turns_the_breaker_off() -> None:
    off = BreakerRules(threshold=0)
    row = fresh()
    row.state = PortalState.DOWN
    assert not off.enabled
    assert breaker.admit(row, task_id="x", token=1, probe_live=False, now=T0, rules=off) == Admit()


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("https://Portal.Acme.example/provider/login", "portal.acme.example"),
        ("http://127.0.0.1:8123/acme", "127.0.0.1:8123"),
        ("https://user:pw@portal.example:8443/x", "portal.example:8443"),
    ],
)
def test_the_key_is_the_login_urls_host(url: str, key: str) -> None:
    assert breaker.portal_key(url) == key
