"""The portals sopwright can work on: one package each, listed here by key."""

from __future__ import annotations

from handlers.portals.acme import acme_handler
from handlers.portals.beacon import beacon_handler
from handlers.registry import PortalHandler


def portal_handlers() -> dict[str, PortalHandler]:
    """Every known portal's handler, by portal key (the `--payer` of `sopwright portals add`)."""
    handlers: list[PortalHandler] = [acme_handler(), beacon_handler()]
    return {handler.key: handler for handler in handlers}
