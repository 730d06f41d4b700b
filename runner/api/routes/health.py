"""Liveness and readiness probes for process supervisors and load balancers."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from runner.api.deps import SystemDep
from runner.core import db
from runner.core.errors import ConfigError

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process answers."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(system: SystemDep) -> JSONResponse:
    """The database answers and its schema is the one this code needs."""
    try:
        db.require_current(system.engine)
    except ConfigError as exc:
        return JSONResponse({"status": "not_ready", "reason": exc.message}, status_code=503)
    except Exception as exc:
        reason = f"database unreachable ({type(exc).__name__})"
        return JSONResponse({"status": "not_ready", "reason": reason}, status_code=503)
    return JSONResponse({"status": "ready", "schema": db.head_revision()})
