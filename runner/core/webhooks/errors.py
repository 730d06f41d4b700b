"""Errors of the webhook package, each a kind of a core error so the API and CLI translate them once.

SopwrightError (runner.core.errors)
 ├── InvalidRequest
 │    └── UnsafeDestination (runner.core.errors)
 │         └── UnsafeWebhookUrl   the URL is malformed, not https in production, or points inside
 └── Conflict
      ├── DeliveryInFlight     a dispatcher is sending this delivery right now
      └── NoWebhookUrl         the account has no webhook URL to send to
"""

from __future__ import annotations

from runner.core.errors import Conflict, UnsafeDestination


class UnsafeWebhookUrl(UnsafeDestination):
    """Refused by the destination policy; `reason` names the rule (e.g. "loopback")."""

    code = "unsafe_webhook_url"


class DeliveryInFlight(Conflict):
    code = "delivery_in_flight"


class NoWebhookUrl(Conflict):
    code = "no_webhook_url"


class EndpointDisabled(Conflict):
    code = "endpoint_disabled"
