"""Serving a generated document as a browser download, or inline for a new tab (and noting it for
the inspection API)."""

from __future__ import annotations

from datetime import datetime

from starlette.responses import Response

from mock_portal.store import PortalState
from mock_portal.workflows.documents import Document


def download(
    state: PortalState, payer: str, number: str, document: Document, now: datetime, *, inline: bool = False
) -> Response:
    """`inline`: for a link that opens the PDF in a new tab (knob `documents_in_new_tab`)."""
    state.lookups.document(payer=payer, kind=document.kind, number=number, at=now)
    disposition = "inline" if inline else "attachment"
    return Response(
        document.content,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'{disposition}; filename="{document.filename}"',
            "Cache-Control": "no-store",
        },
    )
