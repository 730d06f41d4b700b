"""The console as an ASGI app mounted under /console by the API (its own HTML error pages)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from runner.api.console import batches, errors, new_task, queues, settings_page, signin, tasks
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


class SecurityHeaders:
    """Adds the headers above to every answer (pages also `no-store`; static files may be cached).

    Plain ASGI rather than `@app.middleware("http")`: that one reads the request in a task group,
    where an error raised while reading (a body past its limit) would arrive wrapped as a 500.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith(f"{scope.get('root_path', '')}/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in _SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if not static:
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_console(system: System) -> FastAPI:
    app = FastAPI(title="sopwright console", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.system = system
    app.state.signin_throttle = SignInThrottle()
    errors.install(app)

    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    for module in (signin, tasks, queues, batches, new_task, settings_page):
        app.include_router(module.router)
    return app
