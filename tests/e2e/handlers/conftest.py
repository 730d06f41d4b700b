"""The handlers end to end: the runner's worker drives real Chromium through the step scripts
against the mock portal (one server per session, reset per test), on SQLite.

`Clinic` is one account with a login per payer; `tasks` builds task data for the mock's magic
members with dates relative to today.
"""

from __future__ import annotations

import io
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from sqlmodel import select

from handlers.context import StepContext
from handlers.portals import portal_handlers
from handlers.registry import PortalHandler, StepScript
from runner.core.db import session_scope
from runner.core.egress import EgressGate
from runner.core.files import Upload
from runner.core.pool import BrowserPool
from runner.core.runtime import build_executor
from runner.core.settings import Settings
from runner.core.system import System
from runner.core.tables import Account, PortalCredential, Task, TaskFile, Trajectory, TrajectoryStep
from runner.core.worker import Worker
from tests.support.portal_server import MockPortalAdmin
from tests.support.threaded import LoopThread

DOCUMENTS = Path(__file__).resolve().parents[3] / "fixtures" / "documents"
POLL_SCALE = 0.001  # SOP polls every 60 s: about 60 ms here
TIMINGS: list[tuple[str, str, float]] = []  # (task type, payer, seconds) of the happy paths


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Seconds per task (one attempt, browser start-up excluded), by type and payer."""
    if not TIMINGS:
        return
    terminalreporter.section("handlers: time per task")
    for task_type, payer, seconds in sorted(TIMINGS):
        terminalreporter.write_line(f"{task_type:<28} {payer:<8} {seconds:6.2f} s")


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'sopwright.db'}"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"trace": "off", "poll_scale": POLL_SCALE, "worker_concurrency": 2})


class KeptBrowser(BrowserPool):
    """One Chromium for every worker pass of a test: a worker stops its browser when it drains
    the queue, and starting Chromium again for each pass is most of a short test's time. Its
    contexts go out through the egress gate, as a worker's do."""

    def __init__(
        self, egress: EgressGate | None = None, *, warm_seconds: float = 0.0, max_pages: int | None = None
    ) -> None:
        super().__init__(egress=egress, warm_seconds=warm_seconds, max_pages=max_pages)
        self._up = False

    async def start(self) -> None:
        if not self._up:
            await super().start()
            self._up = True

    async def stop(self) -> None:
        return None

    async def close(self) -> None:
        if self._up:
            await super().stop()
            self._up = False


@dataclass
class Clinic:
    """An account with portal logins on the mock, and helpers to run its tasks through a worker."""

    system: System
    portal: MockPortalAdmin
    account: Account
    timings: list[float] = field(default_factory=list)

    def add_login(self, payer: str, *, password: str | None = None, index: int = 0) -> PortalCredential:
        user = self.portal.user(payer, index)
        base = next(p["base_path"] for p in self.portal.payers() if p["key"] == payer)
        return self.system.credentials.add(
            self.account.id,
            payer=payer,
            url=self.portal.base_url + base,
            username=user["username"],
            password=password or user["password"],
            totp_secret=user["totp_secret"],
        )

    def create(self, task_type: str, data: str, *, files: tuple[str, ...] = ()) -> Task:
        uploads = [Upload(name, "application/pdf", (DOCUMENTS / name).read_bytes()) for name in files]
        task = self.system.tasks.create(
            self.account, type=task_type, data=data, uploads=uploads, actor="test"
        )
        assert task.status == "pending", task.notes
        return task

    # Not asyncio.Runner in the main thread: pytest-playwright's sync API keeps a loop running there.
    loop: LoopThread = field(default_factory=LoopThread)
    browser: KeptBrowser = field(default_factory=lambda: KeptBrowser())

    def run(self, *, concurrency: int = 2, portals: Mapping[str, PortalHandler] | None = None) -> float:
        """Drain the queue with a fresh worker (on the test's one browser); returns the seconds."""
        executor = build_executor(self.system, portals=portals)
        worker = Worker(
            self.system.queue, executor, self.browser, concurrency=concurrency, poll_interval=0.05
        )
        started = time.monotonic()
        self.loop.run(worker.run(once=True))
        took = time.monotonic() - started
        self.timings.append(took)
        return took

    def close(self) -> None:
        self.loop.run(self.browser.close())
        self.loop.close()

    def get(self, task_id: str) -> Task:
        with session_scope(self.system.engine, readonly=True) as session:
            task = session.get(Task, task_id)
            assert task is not None
            return task

    def make_due(self, task_id: str) -> None:
        with session_scope(self.system.engine) as session:
            task = session.get(Task, task_id)
            assert task is not None
            task.run_after = None
            session.add(task)

    def supply(self, task_id: str, data: str) -> Task:
        return self.system.tasks.supply_input(self.account, task_id, data=data, uploads=[], actor="test")

    def approve(self, task_id: str) -> Task:
        return self.system.tasks.review(self.account.id, task_id, approve=True, notes="checked", actor="test")

    def attempt_seconds(self, task_id: str) -> float:
        """How long the task's last attempt took, from its trajectory (browser start excluded)."""
        with session_scope(self.system.engine, readonly=True) as session:
            task = session.get(Task, task_id)
            trajectory = session.get(Trajectory, task.trajectory_id) if task else None
            assert trajectory is not None and trajectory.ended_at is not None
            return (trajectory.ended_at - trajectory.started_at).total_seconds()

    def record_time(self, task_id: str) -> None:
        """Note the task's attempt time for the timings table printed after the run."""
        task = self.get(task_id)
        payer = self.system.credentials.of_account(self.account.id)[0].payer
        TIMINGS.append((task.type, payer, self.attempt_seconds(task_id)))

    def credential(self, credential_id: str) -> PortalCredential:
        return self.system.credentials.get(credential_id)

    def portal_files(self, task_id: str) -> list[tuple[TaskFile, bytes]]:
        """The documents the task kept from the portal, with their bytes (from the file store)."""
        with session_scope(self.system.engine, readonly=True) as session:
            rows = session.exec(
                select(TaskFile).where(TaskFile.task_id == task_id, TaskFile.source == "portal")
            ).all()
        return [(row, self.system.files.read(row.sha256)) for row in rows]

    def steps(self, task_id: str) -> list[TrajectoryStep]:
        """The steps of the task's last attempt, in order."""
        task = self.get(task_id)
        with session_scope(self.system.engine, readonly=True) as session:
            statement = select(TrajectoryStep).where(TrajectoryStep.trajectory_id == task.trajectory_id)
            return sorted(session.exec(statement).all(), key=lambda s: s.position)

    def confirmation_text(self, task_id: str) -> str:
        """The text of the task's one printed confirmation page (pypdf reads it)."""
        [(row, content)] = self.portal_files(task_id)
        assert row.kind == "confirmation" and row.content_type == "application/pdf", row
        assert content.startswith(b"%PDF-") and row.size == len(content)
        return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


@pytest.fixture
def clinic(system: System, portal: MockPortalAdmin) -> Iterator[Clinic]:
    account = system.accounts.create("Maple Street Clinic").account
    clinic = Clinic(system, portal, account, browser=KeptBrowser(EgressGate(system.destinations)))
    yield clinic
    clinic.close()


def submitted_fields(portal: MockPortalAdmin, payer: str, kind: str) -> list[dict[str, Any]]:
    return [s["fields"] for s in portal.submissions(payer=payer, kind=kind)]


def replacing(payer: str, step: str, script: StepScript) -> dict[str, PortalHandler]:
    """The real handlers, with one step script replaced."""
    handlers = portal_handlers()
    handlers[payer] = replace(handlers[payer], scripts={**handlers[payer].scripts, step: script})
    return handlers


def with_hook(
    payer: str, step: str, after: Callable[[StepContext], Awaitable[None]]
) -> dict[str, PortalHandler]:
    """The real handlers, with `after` awaited once `step` has run (to change things mid-task)."""
    original = portal_handlers()[payer].scripts[step]

    async def hooked(ctx: StepContext) -> None:
        await original(ctx)
        await after(ctx)

    return replacing(payer, step, hooked)
