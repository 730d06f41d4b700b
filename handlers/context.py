"""What a step script receives: the page, the task's typed fields, credentials, documents, the result.

Step scripts know nothing about the queue, the database or HTTP: everything they need is here,
and everything they learn goes into `result` (and, for a business outcome, `finish`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sops.types import Outcome, TaskType

if TYPE_CHECKING:
    from playwright.async_api import Page


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str = field(repr=False)
    totp_secret: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Document:
    path: Path
    filename: str
    content_type: str


@dataclass
class StepContext:
    page: Page
    task_type: TaskType
    fields: Mapping[str, Any]
    credentials: Credentials
    portal_url: str  # the portal's base URL (scheme, host and base path)
    documents: list[Document] = field(default_factory=list)
    result: dict[str, Any] = field(default_factory=dict)
    outcome: Outcome | None = None
    # A polled step sets this while the portal's answer is still pending.
    still_pending: bool = False
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("sopwright.steps"))

    def url(self, path: str) -> str:
        return self.portal_url.rstrip("/") + "/" + path.lstrip("/")

    def finish(self, outcome: Outcome, **result: Any) -> None:
        """Record the business outcome; the remaining steps do not run."""
        self.result.update({k: v for k, v in result.items() if v is not None})
        self.outcome = outcome

    def fail(self, reason: str, **result: Any) -> None:
        self.finish(Outcome.FAILED, failure_reason=reason, **result)
