"""The portals sopwright can work on: one package each, listed here by key.

A portal package holds page objects (`screens.py` for sign-in and the portal's chrome, `pages.py`
and `request_pages.py` for the workflows: locators by role, label and test id, no assertions, no
URLs), the `login` step with the portal's hazard check (`session.py`: every screen change goes
through `arrive`, which turns maintenance, rate limits, 5xx, CAPTCHAs and an ended session into
step errors), one module of step scripts per workflow, and `reconcile.py` (finding a submission
after a crash past the point of no return). `common/` has what the portals share: waiting for
one of several screens, page watchers (Retry-After, the idle modal), formats, documents, problems.
"""

from __future__ import annotations

from handlers.portals.acme import acme_handler
from handlers.portals.beacon import beacon_handler
from handlers.registry import PortalHandler


def portal_handlers() -> dict[str, PortalHandler]:
    """Every known portal's handler, by portal key (the `--payer` of `sopwright portals add`)."""
    handlers: list[PortalHandler] = [acme_handler(), beacon_handler()]
    return {handler.key: handler for handler in handlers}


def portal_names() -> dict[str, str]:
    """Each portal's name as a person knows it, by key: what a new login is called by default."""
    return {key: handler.name for key, handler in portal_handlers().items()}
