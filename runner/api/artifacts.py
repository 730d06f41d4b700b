"""How an attempt's artifact is sent (the API's and the console's route alike): images inline,
page HTML and traces as downloads; a portal page's HTML never runs in our origin."""

from __future__ import annotations

from pathlib import Path

from fastapi.responses import FileResponse

from runner.core.artifacts import is_image, media_type

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
