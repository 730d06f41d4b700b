"""`GET /metrics`: Prometheus figures for operators (no API key, like /healthz and /readyz).

Counts only: task statuses and types, attempts, webhook deliveries, and this process's own
figures. No account, no PHI. Block the path at the reverse proxy if the API faces the internet.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

router = APIRouter(include_in_schema=False)


@router.get("/metrics")
def metrics(request: Request) -> Response:
    registry: CollectorRegistry = request.app.state.metrics
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
