"""Documents a step script keeps from the portal: the evidence a clerk would print. The confirmation
page of a submission printed as a PDF, and any letter, EOB or other document the portal offers as
a download, become the task's files (`source: portal`, with a `kind`), listed and served like
uploads. A step script reaches them through its context:

    from sops.types import DocumentKind

    async def capture_claim_number(ctx: StepContext) -> None:
        number = await text_of(ClaimResultPage(ctx.page).claim_number)
        ...  # record the result first: the PDF is evidence, never the outcome
        await ctx.documents.save_page_pdf(ctx.page, filename=f"claim-{number}-confirmation.pdf")

    async def save_letter(ctx: StepContext) -> None:
        letter = ctx.page.get_by_role("link", name="Download approval letter")
        kept = await ctx.documents.download(letter, kind=DocumentKind.APPROVAL_LETTER)
        # or a callable that starts the download: download(lambda: menu.choose("Letter"), ...)

Both are best-effort and never raise for the document: the submission (or the lookup) already
happened, so a document that cannot be printed, downloaded or accepted is noted on the step (the
trajectory shows it), logged without PHI, and the call returns None; otherwise it returns the
kept file. (Losing the task's lease still stops the step, as everywhere.)

Where a file may land: the runner gives the context a `DocumentSink` whose `folder` is the task's
own artifact folder. A download is saved there only, under a cleaned name, and the sink checks it
(size and type by content, as uploads are checked: a PDF must start with `%PDF`) before it becomes
a task file; a refused file is deleted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Locator, Page, PdfMargins

from sops.types import DocumentKind

PDF_TIMEOUT_S = 30.0
DOWNLOAD_TIMEOUT_MS = 30_000
# How a page is printed: US Letter with margins, without backgrounds (Chromium's print default).
# No date/address header or page-number footer: Chromium renders those as documents of their own
# per page, about half again the CPU and twice the wall time of the print (bench/page_pdf.py);
# the confirmation shows its own time stamp, and the task file its creation time.
PDF_FORMAT = "Letter"
PDF_MARGIN: PdfMargins = {"top": "0.5in", "bottom": "0.5in", "left": "0.4in", "right": "0.4in"}
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]+")
_FILE_MODE = 0o600

Trigger = Locator | Callable[[], Awaitable[object]]


@dataclass(frozen=True)
class KeptDocument:
    """A document that became a task file."""

    file_id: str
    filename: str
    content_type: str
    size: int
    kind: DocumentKind


class DocumentRefused(Exception):
    """A sink would not keep a file (too large, not a document type we accept, too many): the
    message says why in words a billing clerk understands, without PHI."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class DocumentSink(Protocol):
    """Where kept documents go (the runner's, one per attempt)."""

    @property
    def folder(self) -> Path:
        """The task's own artifact folder: the only place a document may land."""
        ...

    async def keep(self, path: Path, *, filename: str, kind: DocumentKind) -> KeptDocument:
        """Check the file at `path` (in `folder`), keep it as a task file and remove `path`;
        DocumentRefused if it is not kept (`path` is removed then too)."""
        ...


class PortalDocuments:
    """`ctx.documents`: keep the portal's documents as task files (see the module docstring)."""

    def __init__(
        self,
        sink: DocumentSink | None,
        *,
        page: Page | None,
        notes: list[str],
        log: logging.Logger,
    ) -> None:
        self._sink = sink
        self._page = page
        self._notes = notes
        self._log = log

    async def save_page_pdf(
        self, page: Page, *, kind: DocumentKind = DocumentKind.CONFIRMATION, filename: str | None = None
    ) -> KeptDocument | None:
        """Print `page` as a PDF (Chromium's print, what a clerk's "Print" gives) and keep it."""
        sink = self._sink
        if sink is None:
            self._missed(kind, "printed", "documents are not kept in this run")
            return None
        name = clean_name(filename, kind, suffix=".pdf")
        landed: Path | None = None
        try:
            data = await asyncio.wait_for(print_pdf(page), PDF_TIMEOUT_S)
            landed = landing_path(sink.folder, name)
            await asyncio.to_thread(_write_private, landed, data)
            return await self._keep(sink, landed, name, kind)
        except (PlaywrightError, TimeoutError, OSError, DocumentRefused) as exc:
            if landed is not None:
                landed.unlink(missing_ok=True)
            self._missed(kind, "printed", _reason(exc))
            return None

    async def download(
        self,
        trigger: Trigger,
        *,
        kind: DocumentKind = DocumentKind.DOCUMENT,
        filename: str | None = None,
        timeout_ms: float = DOWNLOAD_TIMEOUT_MS,
    ) -> KeptDocument | None:
        """Click `trigger` (a locator, or call it: an async callable that starts the download) and
        keep the file the portal sends (Playwright's `expect_download`, on the trigger's page).
        `filename` overrides the portal's suggested name."""
        sink = self._sink
        page = trigger.page if isinstance(trigger, Locator) else self._page
        if sink is None or page is None:
            self._missed(kind, "downloaded", "documents are not kept in this run")
            return None
        landed: Path | None = None
        try:
            async with page.expect_download(timeout=timeout_ms) as info:
                if isinstance(trigger, Locator):
                    await trigger.click()
                else:
                    await trigger()
            download = await info.value
            failure = await download.failure()
            if failure is not None:
                raise DocumentRefused(f"the download did not complete ({failure})")
            name = clean_name(filename or download.suggested_filename, kind)
            landed = landing_path(sink.folder, name)
            await download.save_as(landed)
            with contextlib.suppress(PlaywrightError):
                await download.delete()  # the browser's own copy, in its temporary folder
            return await self._keep(sink, landed, name, kind)
        except (PlaywrightError, TimeoutError, OSError, DocumentRefused) as exc:
            if landed is not None:
                landed.unlink(missing_ok=True)
            self._missed(kind, "downloaded", _reason(exc))
            return None

    async def _keep(self, sink: DocumentSink, landed: Path, name: str, kind: DocumentKind) -> KeptDocument:
        kept = await sink.keep(landed, filename=name, kind=kind)
        self._log.info(
            "portal document kept",
            extra={"kind": kind.value, "size": kept.size, "content_type": kept.content_type},
        )
        return kept

    def _missed(self, kind: DocumentKind, verb: str, reason: str) -> None:
        what = kind.value.replace("_", " ")
        self._notes.append(f"The {what} could not be {verb} and kept: {reason.rstrip('.')}.")
        # The reason may quote the page (a selector, a URL): logs carry the kind only.
        self._log.warning("portal document not kept", extra={"kind": kind.value, "action": verb})


async def print_pdf(page: Page) -> bytes:
    """`page` as Chromium prints it (see PDF_FORMAT)."""
    return await page.pdf(format=PDF_FORMAT, margin=PDF_MARGIN)


def clean_name(name: str | None, kind: DocumentKind, *, suffix: str = "") -> str:
    """A file name safe on any disk and in a Content-Disposition header; the kind when empty."""
    base = _UNSAFE_NAME.sub("_", Path(name or "").name).strip(" .")[:200] or kind.value
    if suffix and not base.lower().endswith(suffix):
        base += suffix
    return base


def landing_path(folder: Path, name: str) -> Path:
    """A new file in `folder` for `name`; never outside it, never an existing file."""
    path = folder / f".portal-{secrets.token_hex(6)}-{Path(name).name}"
    if path.resolve().parent != folder.resolve():
        raise DocumentRefused("the file name is not one a document may have")
    return path


def _write_private(path: Path, data: bytes) -> None:
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _FILE_MODE)
    with os.fdopen(handle, "wb") as sink:
        sink.write(data)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, DocumentRefused):
        return exc.message
    if isinstance(exc, TimeoutError):
        return "the browser took too long"
    text = str(exc).strip().splitlines()
    first = text[0] if text else type(exc).__name__
    return first[:200]
