"""How files are sent (the API's and the console's routes alike): an attempt's artifacts (images
inline, page HTML and traces as downloads; a portal page's HTML never runs in our origin) and a
task's documents (downloads)."""

from __future__ import annotations

from pathlib import Path

from fastapi.responses import FileResponse, Response

from runner.core.artifacts import is_image, media_type
from runner.core.tables import TaskFile

HEADERS = {
    "Cache-Control": "private, no-store",
    "X-Content-Type-Options": "nosniff",
    # Saved portal pages hold the portal's scripts and forms: sandboxed if a browser shows one.
    "Content-Security-Policy": "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'",
}


def artifact_response(path: Path) -> FileResponse:
    return FileResponse(
        path,
        media_type=media_type(path),
        filename=path.name,
        content_disposition_type="inline" if is_image(path) else "attachment",
        headers=HEADERS,
    )


def document_response(row: TaskFile, content: bytes) -> Response:
    """A task's document as a download, never rendered by the browser."""
    return Response(
        content,
        media_type=row.content_type,
        headers={
            "Content-Disposition": f'attachment; filename="{row.filename}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )
