"""Faults real portals throw at automation, applied to every payer page before it is served.

Order per request: page and frame loads counted (`GET /_mock/traffic`), added latency, maintenance
page (503), rate limit (429), injected 5xx. Static files and the admin API are exempt; every
response, exempt or not, carries `X-Mock-Portal: 1`.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from mock_portal.access import client_of
from mock_portal.pages import Pages
from mock_portal.payers import PAYERS, Payer
from mock_portal.portal import Portal

MOCK_HEADER = "X-Mock-Portal"


def _payer_for(path: str) -> Payer | None:
    return next(
        (p for p in PAYERS.values() if path == p.base_path or path.startswith(p.base_path + "/")), None
    )


def install_hazards(app: FastAPI, portal: Portal, pages: Pages) -> None:
    @app.middleware("http")
    async def hazards(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        payer = _payer_for(request.url.path)
        if payer is not None:
            dest = _page_dest(request)
            if dest is not None:
                portal.traffic.page_loaded(payer.key, dest)
            failure = await _fault(request, portal, pages, payer)
            if failure is not None:
                failure.headers[MOCK_HEADER] = "1"
                return failure
        response = await call_next(request)
        response.headers[MOCK_HEADER] = "1"
        return response


async def _fault(request: Request, portal: Portal, pages: Pages, payer: Payer) -> Response | None:
    knobs = portal.knobs
    delay_ms = knobs.latency_ms + random.uniform(0, knobs.latency_jitter_ms)
    if delay_ms:
        await asyncio.sleep(delay_ms / 1000)
    if knobs.maintenance:
        return pages.render(
            request, payer, "errors/maintenance.html", status_code=503, headers={"Retry-After": "3600"}
        )
    if portal.traffic.over_limit(client_of(request), portal.clock.now(), knobs.rate_limit_per_minute):
        return pages.render(
            request, payer, "errors/rate_limited.html", status_code=429, headers={"Retry-After": "60"}
        )
    if _page_load(request, knobs.error_scope) and portal.traffic.injected_failure(
        knobs.error_rate, knobs.error_seed
    ):
        return pages.render(request, payer, "errors/server_error.html", status_code=500)
    return None


def _page_dest(request: Request) -> str | None:
    """The request's destination when a browser loads it as a page or frame ("document" or
    "iframe"), else None: a script's fetch() says `Sec-Fetch-Dest: empty`; a client without the
    header counts as loading a page."""
    dest = request.headers.get("sec-fetch-dest", "document")
    return dest if dest in ("document", "iframe") else None


def _page_load(request: Request, scope: str) -> bool:
    """Whether the error knob applies: every request, or (scope "pages") only page and frame loads."""
    return scope == "all" or _page_dest(request) is not None
