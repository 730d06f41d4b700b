"""Serving a generated document as a browser download (and noting it for the inspection API)."""

from __future__ import annotations

from datetime import datetime

from starlette.responses import Response

from mock_portal.store import PortalState
from mock_portal.workflows.documents import Document


def download(state: PortalState, payer: str, number: str, document: Document, now: datetime) -> Response:
    state.lookups.document(payer=payer, kind=document.kind, number=number, at=now)
    return Response(
        document.content,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{document.filename}"',
            "Cache-Control": "no-store",
        },
    )
