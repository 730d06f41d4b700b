"""Turning what a portal says is wrong into NeedsInput problems named by the task's fields.

Portals name their inputs after the data they hold; the mapping below folds their names
(`diagnosis_B`, `line_2_charge`, `proc_0_units`) into the task's field names (`diagnosis_codes`,
`service_lines`, `procedures`) so a person knows which field of the task to correct.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence

from playwright.async_api import FilePayload, FrameLocator, Locator, Page

from handlers.context import Document
from handlers.errors import InputProblem, NeedsInput

RENAMED = {
    "claim_number": "original_claim_number",
    "payer_name": "payer",
    "payer_id": "payer",
    "documents": "files",
    "attachments": "files",
}
PREFIXES = (("diagnosis_", "diagnosis_codes"), ("line_", "service_lines"), ("proc_", "procedures"))


def task_field(portal_name: str, default: str) -> str:
    if not portal_name:
        return default
    if portal_name in RENAMED:
        return RENAMED[portal_name]
    for prefix, field in PREFIXES:
        if portal_name.startswith(prefix):
            return field
    return portal_name


async def summary_problems(
    summary: Locator, root: Page | FrameLocator, *, default_field: str
) -> list[InputProblem]:
    """One problem per entry of a form's error summary (links point at the invalid inputs)."""
    problems: list[InputProblem] = []
    for link in await summary.get_by_role("link").all():
        message = " ".join((await link.inner_text()).split())
        target = (await link.get_attribute("href") or "").lstrip("#")
        name = ""
        if target:
            # Ids are generated per render (`:r2b:`), so the link's target is found by the exact
            # id it names; a CSS attribute selector copes with the colons.
            control = root.locator(f'[id="{target}"]')
            if await control.count():
                name = await control.first.get_attribute("name") or ""
        problems.append(InputProblem(task_field(name, default_field), message))
    return problems


def needs_input(portal: str, problems: Sequence[InputProblem]) -> NeedsInput:
    listed = "; ".join(p.message for p in problems) or "the form was refused"
    return NeedsInput(f"{portal} refused the form: {listed}", problems=list(problems))


def upload_limits(hint: str) -> tuple[int | None, set[str]]:
    """(max files, allowed extensions) from an upload hint like "Up to 10 files; pdf, jpg."."""
    count = re.search(r"(\d+)\s+files?", hint)
    tail = re.split(r"[;:]", hint, maxsplit=1)
    extensions = set(re.findall(r"\b([a-z0-9]{2,5})\b", tail[1].lower())) if len(tail) > 1 else set()
    return (int(count.group(1)) if count else None), extensions


def document_problems(documents: Sequence[Document], hint: str) -> list[InputProblem]:
    """Files the portal's stated limits would refuse, found before anything is sent."""
    max_files, extensions = upload_limits(hint)
    problems = []
    if max_files is not None and len(documents) > max_files:
        problems.append(
            InputProblem(
                "files", f"The portal takes at most {max_files} files; the task has {len(documents)}."
            )
        )
    for doc in documents:
        ext = doc.filename.rsplit(".", 1)[-1].lower() if "." in doc.filename else ""
        if extensions and ext not in extensions:
            allowed = ", ".join(sorted(extensions))
            problems.append(
                InputProblem("files", f"{doc.filename}: the portal accepts only {allowed} files.")
            )
    return problems


def file_problems(messages: Sequence[str]) -> list[InputProblem]:
    return [InputProblem("files", message) for message in messages]


async def file_payloads(documents: Sequence[Document]) -> list[FilePayload]:
    """The task's files as uploads under their own names (the store keeps them by content hash)."""

    def read(doc: Document) -> FilePayload:
        return {"name": doc.filename, "mimeType": doc.content_type, "buffer": doc.path.read_bytes()}

    return [await asyncio.to_thread(read, doc) for doc in documents]
