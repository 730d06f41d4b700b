"""Documents a step script downloads from the portal (issue 13 §3), in real Chromium through the
worker: a link's download and a callable's are kept as task files of their kind (the browser's
download saved into the task's artifact folder, checked, stored); a download that is not what its
name says is refused and noted on the step, and the task completes all the same.

(The confirmation PDF of every submission is checked in test_handlers_happy.py.)"""

from __future__ import annotations

import base64
import io

from fpdf import FPDF
from pypdf import PdfReader

from handlers.context import StepContext
from handlers.documents import KeptDocument
from sops.types import DocumentKind
from tests.e2e.handlers import task_data
from tests.e2e.handlers.conftest import Clinic, with_hook

LETTER_TEXT = "Approval letter for case FK-2026-0042"


def synthetic_pdf(text: str) -> bytes:
    document = FPDF(format="Letter")
    document.add_page()
    document.set_font("helvetica", size=12)
    document.cell(text=text)
    return bytes(document.output())


def link(name: str, filename: str, content: bytes, media_type: str) -> str:
    data = base64.b64encode(content).decode()
    return f'<p><a href="data:{media_type};base64,{data}" download="{filename}">{name}</a></p>'


def test_downloads_are_kept_as_task_files_and_a_false_pdf_is_refused(clinic: Clinic) -> None:
    kept: list[KeptDocument | None] = []

    async def download_letters(ctx: StepContext) -> None:
        """After the real capture: a page offering a letter, an EOB and a "PDF" that is not one."""
        await ctx.page.set_content(
            link("Approval letter", "approval-letter.pdf", synthetic_pdf(LETTER_TEXT), "application/pdf")
            + link("EOB", "remit", synthetic_pdf("EOB claim FK1 paid 120.00"), "application/octet-stream")
            + link("Broken letter", "denial-letter.pdf", b"\x89PNG\r\n\x1a\nnot a pdf", "application/pdf")
        )
        page = ctx.page
        kept.append(
            await ctx.documents.download(
                page.get_by_role("link", name="Approval letter"), kind=DocumentKind.APPROVAL_LETTER
            )
        )
        kept.append(
            await ctx.documents.download(
                lambda: page.get_by_role("link", name="EOB").click(), kind=DocumentKind.EOB
            )
        )
        kept.append(
            await ctx.documents.download(
                page.get_by_role("link", name="Broken letter"), kind=DocumentKind.DENIAL_LETTER
            )
        )

    clinic.add_login("acme")
    task = clinic.create("submit_claim", task_data.claim("acme", charges=("120.00",)))
    clinic.run(portals=with_hook("acme", "capture_claim_number", download_letters))
    done = clinic.get(task.id)
    assert done.status == "completed", done.notes
    assert [k.kind if k else None for k in kept] == [DocumentKind.APPROVAL_LETTER, DocumentKind.EOB, None]

    files = {row.kind: (row, content) for row, content in clinic.portal_files(task.id)}
    assert set(files) == {"confirmation", "approval_letter", "eob"}
    letter, content = files["approval_letter"]
    assert (letter.filename, letter.content_type) == ("approval-letter.pdf", "application/pdf")
    assert LETTER_TEXT in PdfReader(io.BytesIO(content)).pages[0].extract_text()
    eob, _ = files["eob"]
    assert (eob.filename, eob.content_type) == ("remit.pdf", "application/pdf")  # named by its content

    [capture] = [s for s in clinic.steps(task.id) if s.step_id == "capture"]
    assert capture.outcome == "ok"
    assert capture.message == (
        "The denial letter could not be downloaded and kept: File 'denial-letter.pdf' is named as a "
        "PDF file, but its content is not one."
    )
    artifacts = clinic.system.settings.data_dir / "artifacts"
    assert not list(artifacts.rglob(".portal-*"))  # what landed was taken in or removed
