"""The task's documents on a portal's upload control: refused early when the portal's stated
limits (its hint: "Up to 10 files; pdf, jpg, ...") would refuse them after the submit, and sent
under their own names (the file store keeps them by content hash). And the names of the documents
kept from a portal (`ctx.documents`)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence

from playwright.async_api import FilePayload

from handlers.context import Document
from handlers.errors import InputProblem


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


async def file_payloads(documents: Sequence[Document]) -> list[FilePayload]:
    """The task's files as uploads under their own names."""

    def read(doc: Document) -> FilePayload:
        return {"name": doc.filename, "mimeType": doc.content_type, "buffer": doc.path.read_bytes()}

    return [await asyncio.to_thread(read, doc) for doc in documents]


def confirmation_name(what: str, number: object, *, page: str = "confirmation") -> str:
    """The file name of a submission's printed confirmation: `claim-1234567890123-confirmation.pdf`
    (`claim-confirmation.pdf` when the portal gave no number)."""
    return f"{what}-{number}-{page}.pdf" if number else f"{what}-{page}.pdf"
