"""Errors of the core. Each is translated once: to an HTTP response, a CLI message or a task state.

SopwrightError
 ├── NotFound                 a task, file, account or key the caller cannot see
 ├── Conflict                 the request contradicts the current state
 │    ├── InvalidTransition   the task's status does not allow this action
 │    ├── NoFollowUp          the task is no follow-up and has none waiting (runner.core.followups)
 │    └── IdempotencyConflict same Idempotency-Key, different request
 ├── InvalidRequest           the request is malformed or names something unknown
 │    ├── UnknownTaskType
 │    ├── BatchFileError      a batch's file as a whole cannot be read (runner.core.batchfile)
 │    └── UnsafeDestination   a URL names an internal address (runner.core.destinations)
 │         └── UnsafePortalUrl   a portal login's URL (webhooks have UnsafeWebhookUrl)
 ├── Unauthorized             missing, unknown or revoked API key
 ├── RateLimited              too many requests of a kind; `retry_after` says when to try again
 ├── UploadRejected           a file or the data is too large or of a refused type
 │    ├── TooLarge
 │    └── UnsupportedType
 ├── SourceError              a schedule's source cannot be read (runner.core.sources)
 ├── BrowserUnavailable       no browser server gave a context in time (runner.core.browser)
 └── ConfigError              the installation is misconfigured (settings, SOP overrides, key)
"""

from __future__ import annotations

from typing import Any


class SopwrightError(Exception):
    """Base of every error the core raises on purpose."""

    code = "error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(SopwrightError):
    code = "not_found"


class Conflict(SopwrightError):
    code = "conflict"


class InvalidTransition(Conflict):
    code = "invalid_status"


class NoFollowUp(Conflict):
    code = "no_follow_up"


class IdempotencyConflict(Conflict):
    code = "idempotency_conflict"


class InvalidRequest(SopwrightError):
    code = "invalid_request"


class UnknownTaskType(InvalidRequest):
    code = "unknown_task_type"


class UnsafeDestination(InvalidRequest):
    """Refused by the destination policy; `reason` names the rule (e.g. "loopback")."""

    code = "unsafe_destination"


class UnsafePortalUrl(UnsafeDestination):
    code = "unsafe_portal_url"


class Unauthorized(SopwrightError):
    code = "unauthorized"


class RateLimited(SopwrightError):
    code = "rate_limited"


class UploadRejected(SopwrightError):
    code = "upload_rejected"


class TooLarge(UploadRejected):
    code = "too_large"


class UnsupportedType(UploadRejected):
    code = "unsupported_media_type"


class ConfigError(SopwrightError):
    code = "config_error"
