"""What a step script receives: the page, the task's typed fields, credentials, the uploaded
documents, the portal's documents to keep, the result.

Step scripts know nothing about the queue, the database or HTTP: everything they need is here,
and everything they learn goes into `result` (and, for a business outcome, `finish`). What the
portal hands over as evidence (a confirmation page as a PDF, a letter, an EOB) is kept through
`ctx.documents` (handlers/documents.py); a remark for the trajectory goes in `note`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from handlers.documents import DocumentSink, PortalDocuments
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
    """A file the client uploaded with the task (sent to the portal as an attachment)."""

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
    uploads: list[Document] = field(default_factory=list)
    result: dict[str, Any] = field(default_factory=dict)
    outcome: Outcome | None = None
    # A polled step sets this while the portal's answer is still pending.
    still_pending: bool = False
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("sopwright.steps"))
    # Where the portal's documents go (the runner's); None: they are not kept (noted instead).
    document_sink: DocumentSink | None = None
    # Remarks for the trajectory: the engine adds those made during a step to its message.
    notes: list[str] = field(default_factory=list)

    @property
    def documents(self) -> PortalDocuments:
        """Keep the portal's documents as task files: `save_page_pdf(page, kind=...)`,
        `download(locator_or_callable, kind=...)` (see handlers/documents.py)."""
        return PortalDocuments(self.document_sink, page=self.page, notes=self.notes, log=self.log)

    def url(self, path: str) -> str:
        return self.portal_url.rstrip("/") + "/" + path.lstrip("/")

    def finish(self, outcome: Outcome, **result: Any) -> None:
        """Record the business outcome; the remaining steps do not run."""
        self.result.update({k: v for k, v in result.items() if v is not None})
        self.outcome = outcome

    def note(self, remark: str) -> None:
        """A remark for this step's line in the trajectory (no outcome changes)."""
        self.notes.append(remark)

    def fail(self, reason: str, **result: Any) -> None:
        self.finish(Outcome.FAILED, failure_reason=reason, **result)
