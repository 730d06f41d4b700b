"""The FastAPI application, built from a wired `System` (no globals)."""

from __future__ import annotations

from fastapi import FastAPI

from runner.api import errors, openapi
from runner.api.bodylimit import BodyLimit, text_limit
from runner.api.console import create_console
from runner.api.routes import batches, health, metrics, tasks, trajectories, webhooks
from runner.core.metrics import scrape_registry
from runner.core.system import System


def create_app(system: System) -> FastAPI:
    app = FastAPI(
        title="sopwright",
        summary="Payer-portal tasks (eligibility, claims, prior auths, appeals) run by browser agents.",
        version="0.1.0",
    )
    app.state.system = system
    # The fleet's figures from the database plus this process's own (e.g. `serve`'s worker).
    app.state.metrics = scrape_registry(system.engine)
    errors.install(app)
    openapi.install(app, system.settings)  # the limits from settings in the documented bodies
    # Every body is counted as it arrives (the console's too): routes taking files raise the limit.
    app.add_middleware(BodyLimit, limit=text_limit(system.settings.max_data_chars))
    app.include_router(tasks.router)
    app.include_router(batches.router)
    app.include_router(webhooks.router)
    app.include_router(trajectories.router)
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.mount("/console", create_console(system))

    return app
