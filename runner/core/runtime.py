"""A worker assembled from the wired core: the executor, the browser, and background jobs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from handlers.portals import portal_handlers
from handlers.registry import PortalHandler
from runner.core.egress import EgressGate
from runner.core.execution import ExecutionSettings, Executor
from runner.core.pool import BrowserPool
from runner.core.system import System
from runner.core.tracing import TraceMode
from runner.core.worker import Background, Worker


def build_executor(system: System, *, portals: Mapping[str, PortalHandler] | None = None) -> Executor:
    settings = system.settings
    return Executor(
        system.engine,
        system.queue,
        sops=system.sops,
        credentials=system.credentials,
        files=system.files,
        artifacts=system.artifacts,
        portals=portals if portals is not None else portal_handlers(),
        settings=ExecutionSettings(
            trace=TraceMode(settings.trace),
            poll_scale=settings.poll_scale,
            reconcile=settings.reconcile,
            listing_delay=settings.listing_delay,
            screenshots=settings.screenshots,
            screenshot_budget=settings.screenshot_budget_bytes,
            document_limits=system.upload_limits,
        ),
        health=system.portal_health,
        follow_ups=system.follow_ups,
    )


def build_worker(
    system: System,
    *,
    concurrency: int | None = None,
    headless: bool = True,
    portals: Mapping[str, PortalHandler] | None = None,
    background: Sequence[Background] = (),
    poll_interval: float = 1.0,
) -> Worker:
    settings = system.settings
    return Worker(
        system.queue,
        build_executor(system, portals=portals),
        BrowserPool(
            executable=settings.browser_path,
            headless=headless,
            endpoints=[e.strip() for e in settings.browser_ws_endpoint.split(",") if e.strip()],
            max_contexts=settings.browser_max_contexts,
            egress=EgressGate(system.destinations),
            warm_seconds=settings.warm_context_seconds,
        ),
        concurrency=concurrency or settings.worker_concurrency,
        poll_interval=poll_interval,
        reap_interval=settings.reap_interval,
        grace_seconds=settings.grace_seconds,
        background=background,
    )
