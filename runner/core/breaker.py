"""The circuit breaker of one portal: its rules, pure (no database, no browser: `portal_health`
applies them, `portal_faults` says which errors are the portal's).

    up ──`threshold` portal-side faults in a row──> down ──next_probe_at──> probing (one task)
     ^                                               ^                          │
     │                                               └── the probe faults ──────┤ (back-off doubles)
     └────────────── any attempt gets an answer from the portal ────────────────┘

- Portal-side faults, counted across tasks: a maintenance page or a server error (the handlers'
  `PortalUnavailable`), a timeout, a connection error (`net::ERR_...`).
- An answer resets the count: any outcome, and any step error the portal answered with (a
  member not found, data the payer refused, a rate limit, a refused login, a changed page).
- Neither: an error that says nothing of the portal (a bug, a browser that crashed).
- While the portal is down its due tasks wait without spending an attempt; the attempts the
  tripping run of faults cost are given back. One task at a time probes (a real attempt, not
  counted if the portal is still down); the next probe waits `backoff_seconds`, doubling per
  failed probe up to `max_backoff_seconds` (the portal's Retry-After is not used: a maintenance
  page's "one hour" is often boilerplate, and a probe is cheap).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import urlsplit

from runner.core.tables import PortalHealth
from runner.core.tables.base import as_utc


class PortalState(StrEnum):
    UP = "up"
    DOWN = "down"
    PROBING = "probing"  # down, and one task is checking it


class Signal(StrEnum):
    """What an attempt's end says about its portal (`portal_faults.verdict` reads it off an error)."""

    FAULT = "fault"
    ANSWERED = "answered"
    NOTHING = "nothing"


@dataclass(frozen=True)
class Verdict:
    signal: Signal
    reason: str | None = None  # for a fault: one clause, no PHI


ANSWERED = Verdict(Signal.ANSWERED)


@dataclass(frozen=True)
class BreakerRules:
    threshold: int = 5  # consecutive portal-side faults that mark a portal down; 0 turns it off
    backoff_seconds: float = 30.0  # before the first probe; doubles per failed probe
    max_backoff_seconds: float = 600.0
    alert_after_seconds: float = 1800.0  # a portal down this long sends `portal_down`

    @property
    def enabled(self) -> bool:
        return self.threshold > 0

    def backoff(self, failed_probes: int) -> timedelta:
        seconds = self.backoff_seconds * 2 ** min(failed_probes, 32)
        return timedelta(seconds=min(seconds, self.max_backoff_seconds))


@dataclass(frozen=True)
class Admit:
    probe: bool = False  # this attempt is the one that checks a down portal


@dataclass(frozen=True)
class Wait:
    """The portal is down: give the task back, without spending an attempt, until `until`."""

    until: datetime
    reason: str  # why, in a clause: the last fault, or that a probe is under way


def portal_key(url: str) -> str:
    """The breaker's key for a login URL: its host, with the port when one is given."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{host}:{port}" if port else host


def admit(
    row: PortalHealth, *, task_id: str, token: int, probe_live: bool, now: datetime, rules: BreakerRules
) -> Admit | Wait:
    """May this task's attempt start? A down portal lets one task through as its probe, once
    the back-off has passed and no live probe holds the row."""
    if not rules.enabled or row.state == PortalState.UP:
        return Admit()
    if row.state == PortalState.PROBING and probe_live:
        return Wait(now + rules.backoff(0), "another task is checking it now")
    due = as_utc(row.next_probe_at)
    if due is not None and due > now:
        return Wait(due, row.last_fault or "")
    row.state = PortalState.PROBING
    row.probe_task_id = task_id
    row.probe_token = token
    row.updated_at = now
    return Admit(probe=True)


def on_fault(
    row: PortalHealth, *, task_id: str, token: int, reason: str, now: datetime, rules: BreakerRules
) -> list[str]:
    """Count a portal-side fault. Returns the streak's task ids (one per attempt) when this
    fault trips the breaker: their attempts are to be given back."""
    row.last_fault = reason
    row.consecutive_faults += 1
    row.updated_at = now
    if row.state == PortalState.UP:
        if row.consecutive_faults < rules.threshold:
            row.streak = [*row.streak, task_id][-rules.threshold :]
            return []
        refund = list(row.streak)
        row.state = PortalState.DOWN
        row.down_since = now
        row.probe_failures = 0
        row.next_probe_at = now + rules.backoff(0)
        row.streak = []
        return refund
    if row.state == PortalState.PROBING and row.probe_task_id == task_id and row.probe_token == token:
        row.probe_failures += 1
        row.state = PortalState.DOWN
        row.next_probe_at = now + rules.backoff(row.probe_failures)
        row.probe_task_id = None
        row.probe_token = None
    return []


def on_answer(row: PortalHealth, *, now: datetime) -> bool:
    """The portal answered an attempt: reset. True if it was down (its held tasks resume)."""
    was_down = row.state != PortalState.UP
    row.state = PortalState.UP
    row.consecutive_faults = 0
    row.streak = []
    row.down_since = None
    row.probe_failures = 0
    row.next_probe_at = None
    row.probe_task_id = None
    row.probe_token = None
    row.alerted_at = None
    row.updated_at = now
    return was_down


def is_down(row: PortalHealth) -> bool:
    return row.state != PortalState.UP


def alert_due(row: PortalHealth, *, now: datetime, rules: BreakerRules) -> bool:
    """Whether `portal_down` is to be sent now (once per outage)."""
    since = as_utc(row.down_since)
    if not is_down(row) or since is None or row.alerted_at is not None:
        return False
    return now - since >= timedelta(seconds=rules.alert_after_seconds)


def needs_reset(row: PortalHealth | None) -> bool:
    """Whether an answer changes anything (a healthy row is only read, never locked)."""
    return row is not None and (is_down(row) or row.consecutive_faults > 0 or bool(row.streak))
