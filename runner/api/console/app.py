"""The console as an ASGI app mounted under /console by the API (its own HTML error pages)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from runner.api.console import errors, new_task, queues, settings_page, signin, tasks
from runner.api.console.throttle import SignInThrottle
from runner.core.system import System

# Pages hold PHI: never cached, never framed; scripts and styles only from this console.
_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def create_console(system: System) -> FastAPI:
    app = FastAPI(title="sopwright console", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.system = system
    app.state.signin_throttle = SignInThrottle()
    errors.install(app)

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        for name, value in _SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if not request.url.path.startswith(f"{request.scope.get('root_path', '')}/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    for module in (signin, tasks, queues, new_task, settings_page):
        app.include_router(module.router)
    return app
