"""Which errors of an attempt are its portal's fault, for the breaker (breaker.py).

Kept apart from the rules because it reads step and Playwright errors: the API imports the
breaker's state (console, metrics) and never the browser side.
"""

from __future__ import annotations

import re

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeout

from handlers.errors import PortalUnavailable, StepError
from runner.core.breaker import ANSWERED, Signal, Verdict

_NET_ERROR = re.compile(r"net::(ERR_[A-Z_]+)")


def verdict(error: BaseException | None) -> Verdict:
    """None (an outcome) and step errors other than PortalUnavailable are answers from the portal;
    PortalUnavailable, timeouts and connection errors are faults; anything else says nothing."""
    if error is None or (isinstance(error, StepError) and not isinstance(error, PortalUnavailable)):
        return ANSWERED
    if isinstance(error, PortalUnavailable):
        return Verdict(Signal.FAULT, error.message[:500])
    if isinstance(error, PlaywrightTimeout):
        return Verdict(Signal.FAULT, "the portal did not answer in time")
    # The message is not kept: it may hold a URL with a member id in its query.
    found = _NET_ERROR.search(error.message or "") if isinstance(error, PlaywrightError) else None
    if found:
        return Verdict(Signal.FAULT, f"the portal could not be reached ({found.group(1)})")
    return Verdict(Signal.NOTHING)
