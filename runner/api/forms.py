"""Reading a form body (multipart or urlencoded) within limits: the API's multipart task bodies and
the console's forms alike. Each file is read one byte past the per-file limit, never the whole
stream, so a larger one is seen as too large without being held; the parser's own limits bound
the number of parts and the size of each. Its errors (MultiPartException, Starlette's 400) pass
to the caller, which says what was wrong in its own words."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from starlette.datastructures import UploadFile


@dataclass(frozen=True)
class FilePart:
    filename: str | None
    content: bytes  # at most the per-file limit + 1 bytes


async def form_parts(
    request: Request, *, max_files: int, max_fields: int, max_part_size: int, max_file_bytes: int
) -> list[tuple[str, str | FilePart]]:
    """The form's parts in the order sent: (name, text) or (name, FilePart)."""
    form = await request.form(max_files=max_files, max_fields=max_fields, max_part_size=max_part_size)
    try:
        parts: list[tuple[str, str | FilePart]] = []
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                parts.append((key, FilePart(value.filename, await value.read(max_file_bytes + 1))))
            else:
                parts.append((key, value))
        return parts
    finally:
        await form.close()
