"""Text of uploaded documents, for tasks given only files (or files plus a little data).

PDFs are read with pypdf (text layer only: scanned images yield nothing, there is no OCR);
`text/*` files are decoded as UTF-8, falling back to Windows-1252. Other types (images) are
skipped. Work is bounded: at most `MAX_PAGES` pages per PDF and `MAX_CHARS` characters in all.
Control characters are replaced so the result is always acceptable to `parse_data`.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterable

from pypdf import PdfReader
from pypdf.errors import PyPdfError

from sops.dataformat import MAX_DATA_CHARS

MAX_PAGES = 50
MAX_CHARS = MAX_DATA_CHARS

log = logging.getLogger(__name__)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def text_from_documents(docs: Iterable[tuple[str, bytes]]) -> str:
    """(content_type, bytes) pairs -> their text, one document after another, blank-line separated."""
    parts: list[str] = []
    total = 0
    for index, (content_type, content) in enumerate(docs):
        kind = content_type.split(";")[0].strip().lower()
        if kind == "application/pdf":
            text = _pdf_text(content, index)
        elif kind.startswith("text/"):
            text = _decode(content)
        else:
            continue
        text = _CONTROL.sub(" ", text).strip()
        room = MAX_CHARS - total
        if len(text) > room:  # cut at a line end so no value is silently shortened
            text = text[:room]
            text = text[: text.rfind("\n")] if "\n" in text else ""
        if text:
            parts.append(text)
            total += len(text) + 2
        if total >= MAX_CHARS:
            break
    return "\n\n".join(parts)


def _decode(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return content.decode("cp1252", errors="replace")


def _pdf_text(content: bytes, index: int) -> str:
    try:
        reader = PdfReader(io.BytesIO(content))
        pages = [page.extract_text() or "" for page in reader.pages[:MAX_PAGES]]
    except (PyPdfError, ValueError, KeyError, TypeError, OSError, RecursionError) as exc:
        # An unreadable PDF is not fatal: the task's note will name whatever is then missing.
        log.warning("document unreadable", extra={"document": index, "error": type(exc).__name__})
        return ""
    return "\n".join(pages)
