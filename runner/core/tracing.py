"""When an attempt records a Playwright trace, and when the trace is kept.

A trace (DOM snapshots after every action, screencast frames) roughly doubles the browser work
of an attempt, and Playwright cannot know in advance that an attempt will fail. So by default the
first attempt runs without one — it keeps its step screenshots and, at a failing step, the page's
HTML — and every retry is traced (Playwright test's `on-all-retries`):

    mode              attempt 1          attempt 2          attempt 3+         kept
    off               -                  -                  -                  never
    on-first-retry    -                  recorded           -                  always (when recorded)
    on-all-retries    -                  recorded           recorded           always (when recorded)
    on-failure        recorded           recorded           recorded           when the attempt failed
    always            recorded           recorded           recorded           always
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class TraceMode(StrEnum):
    OFF = "off"
    ON_FIRST_RETRY = "on-first-retry"
    ON_ALL_RETRIES = "on-all-retries"
    ON_FAILURE = "on-failure"
    ALWAYS = "always"


DEFAULT_TRACE_MODE = TraceMode.ON_ALL_RETRIES


@dataclass(frozen=True)
class TracePlan:
    """What one attempt does with a trace: record it at all, and keep it once recorded."""

    mode: TraceMode
    attempt: int  # 1 for the first attempt (the task's `attempts` once claimed)

    @property
    def records(self) -> bool:
        match self.mode:
            case TraceMode.OFF:
                return False
            case TraceMode.ON_FIRST_RETRY:
                return self.attempt == 2
            case TraceMode.ON_ALL_RETRIES:
                return self.attempt >= 2
            case TraceMode.ON_FAILURE | TraceMode.ALWAYS:
                return True

    def keeps(self, *, failed: bool) -> bool:
        """Whether a recorded trace is saved when the attempt ends (`failed`: error or FAILED)."""
        if not self.records:
            return False
        return failed if self.mode is TraceMode.ON_FAILURE else True
