"""The portal's FastAPI application: both payers, shared session routes, hazards, admin API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from mock_portal import acme, admin, beacon
from mock_portal.access import Redirect
from mock_portal.hazards import MOCK_HEADER, install_hazards
from mock_portal.pages import Pages
from mock_portal.payers import PAYERS
from mock_portal.portal import Portal, PortalConfig
from mock_portal.session_routes import session_router
from mock_portal.validation import load_code_set

STATIC = Path(__file__).resolve().parent / "static"


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    # The ICD-10 code set loads before the portal serves (seconds on a busy machine): loaded in the
    # background instead, a first claim submitted meanwhile waited for it past its click's timeout.
    await asyncio.to_thread(load_code_set)
    yield


def create_app(config: PortalConfig | None = None) -> FastAPI:
    """A fresh portal with its own state; admin routes only when `config.admin` is set."""
    config = config or PortalConfig()
    portal = Portal(config)
    pages = Pages(portal)
    app = FastAPI(
        title="sopwright mock payer portal",
        docs_url="/_mock/docs" if config.admin else None,
        redoc_url=None,
        openapi_url="/_mock/openapi.json" if config.admin else None,
        lifespan=_lifespan,
    )
    app.state.portal = portal
    app.state.pages = pages  # what `pages.render` renders with (the routers are module-level)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.exception_handler(Redirect)
    async def redirect(request: Request, exc: Redirect) -> Response:
        return RedirectResponse(exc.url, status_code=303)

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception) -> Response:
        """A bug in the mock still answers like a portal: an error page, marked as mock."""
        response = pages.render(request, None, "errors/server_error.html", status_code=500)
        response.headers[MOCK_HEADER] = "1"
        return response

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index(request: Request) -> Response:
        return pages.render(request, None, "index.html", payers=list(PAYERS.values()))

    install_hazards(app, portal, pages)
    for payer in PAYERS.values():
        app.include_router(session_router(payer))
    app.include_router(acme.router)
    app.include_router(beacon.router)
    if config.admin:
        app.include_router(admin.router)
    return app
