"""Workers on remote browsers: a real `playwright run-server` subprocess, killed and restarted.

The pool places contexts on the least busy reachable server, caps each server, gives back the
slot of a context whose server died, and reconnects after a restart; a worker built from settings
with `browser_ws_endpoint` completes tasks through it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from handlers.browser import find_chromium
from handlers.context import StepContext
from handlers.fake import FakePortal
from handlers.registry import PortalHandler
from runner.core.browser import BrowserUnavailable
from runner.core.db import session_scope
from runner.core.pool import BrowserPool
from runner.core.runtime import build_executor, build_worker
from runner.core.settings import Settings
from runner.core.system import System, build
from runner.core.tables import Account, Task
from runner.core.worker import Worker, WorkerStats
from tests.support.browser_server import BrowserServer, running_browser_server
from tests.support.task_fixtures import task_fixture
from tests.support.threaded import LoopThread, run_async

CLAIM_STEPS = ["login", "open_claim_form", "fill_claim", "submit_claim", "capture_claim_number"]
CHROMIUM = find_chromium()  # a path on "the server's machine" (this one); None = a bundled browser
DEADLINE_SECONDS = 30.0


@pytest.fixture(scope="module")
def server() -> Iterator[BrowserServer]:
    with running_browser_server() as running:
        yield running


@pytest.fixture
def loop() -> Iterator[LoopThread]:
    thread = LoopThread()
    yield thread
    thread.close()


def wait_until(check: Callable[[], bool], what: str, timeout: float = DEADLINE_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def remote_pool(*endpoints: str, max_contexts: int = 8, slot_timeout: float = 30.0) -> BrowserPool:
    return BrowserPool(
        executable=CHROMIUM, endpoints=list(endpoints), max_contexts=max_contexts, slot_timeout=slot_timeout
    )


# -- the pool ---------------------------------------------------------------------------------


def test_a_context_on_a_dead_server_frees_its_slot_and_the_pool_reconnects(
    server: BrowserServer, loop: LoopThread
) -> None:
    pool = remote_pool(server.endpoint)
    loop.run(pool.start())
    try:
        context = loop.run(pool.new_context())
        page = loop.run(context.new_page())
        loop.run(page.set_content("<h1>remote</h1>"))
        assert loop.run(page.inner_text("h1")) == "remote"
        assert pool.in_use == 1 and server.browsers() == 1
        server.kill()
        wait_until(lambda: pool.in_use == 0, "the dead server's context to free its slot")
        server.start()
        again = loop.run(pool.new_context())
        assert pool.in_use == 1 and pool.status() == [{"server": server.endpoint, "up": True, "open": 1}]
        loop.run(again.close())
        assert pool.in_use == 0
    finally:
        loop.run(pool.stop())
    wait_until(lambda: server.browsers() == 0, "the server to close the pool's browser")


def test_a_full_server_makes_the_next_request_wait_then_fail(server: BrowserServer, loop: LoopThread) -> None:
    pool = remote_pool(server.endpoint, max_contexts=1, slot_timeout=0.5)
    loop.run(pool.start())
    try:
        first = loop.run(pool.new_context())
        with pytest.raises(BrowserUnavailable, match="busy"):
            loop.run(pool.new_context())
        loop.run(first.close())
        second = loop.run(pool.new_context())  # the slot is free again
        assert pool.in_use == 1
        loop.run(second.close())
    finally:
        loop.run(pool.stop())


def test_contexts_spread_over_servers_and_skip_a_refusing_one(
    server: BrowserServer, loop: LoopThread
) -> None:
    refusing = "ws://127.0.0.1:9/"  # the discard port: nothing listens there
    with running_browser_server() as other:
        pool = remote_pool(server.endpoint, refusing, other.endpoint)
        loop.run(pool.start())
        try:
            contexts = [loop.run(pool.new_context()) for _ in range(4)]
            assert pool.status() == [
                {"server": server.endpoint, "up": True, "open": 2},
                {"server": refusing, "up": False, "open": 0},
                {"server": other.endpoint, "up": True, "open": 2},
            ]
            for context in contexts:
                loop.run(context.close())
            assert pool.in_use == 0
        finally:
            loop.run(pool.stop())


# -- a worker on the server -------------------------------------------------------------------


def account_with_login(system: System) -> Account:
    account = system.accounts.create("Clinic").account
    system.credentials.add(
        account.id,
        payer="fake",
        url="http://portal.invalid/fake",
        username="biller",
        password="pw",
        totp_secret=None,
    )
    return account


def claim(system: System, account: Account) -> Task:
    data = task_fixture("submit_claim").replace("payer: Acme Health", "payer: fake")
    task = system.tasks.create(account, type="submit_claim", data=data, actor="test")
    assert task.status == "pending", task.notes
    return task


def status_of(system: System, task_id: str) -> str:
    with session_scope(system.engine, readonly=True) as session:
        task = session.get(Task, task_id)
        assert task is not None
        return task.status


class WorkerThread:
    """A long-running worker (not --once) in its own thread and loop, stopped at the end."""

    def __init__(self, worker: Worker) -> None:
        self._worker = worker
        self._stopping = threading.Event()
        self._result: dict[str, object] = {}
        self._thread = threading.Thread(target=self._main, name="remote-worker")

    def __enter__(self) -> WorkerThread:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        self._thread.join(timeout=60)
        assert not self._thread.is_alive()
        if "error" in self._result:
            raise self._result["error"]  # type: ignore[misc]

    @property
    def stats(self) -> WorkerStats:
        return self._worker.stats

    def _main(self) -> None:
        async def run() -> None:
            stop = asyncio.Event()

            async def watch() -> None:
                while not self._stopping.is_set():
                    await asyncio.sleep(0.05)
                stop.set()

            watcher = asyncio.create_task(watch())
            await self._worker.run(stop=stop)
            await watcher

        try:
            asyncio.run(run())
        except BaseException as exc:
            self._result["error"] = exc


@pytest.fixture
def remote_settings(settings: Settings, server: BrowserServer) -> Settings:
    return settings.model_copy(
        update={"poll_scale": 0.0, "browser_ws_endpoint": f" {server.endpoint} ", "browser_path": CHROMIUM}
    )


@pytest.fixture
def remote_system(remote_settings: Settings) -> Iterator[System]:

    core = build(remote_settings)
    yield core
    core.engine.dispose()


def test_worker_completes_tasks_on_a_browser_server_and_after_its_restart(
    remote_system: System, server: BrowserServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="runner.core.pool")
    system = remote_system
    account = account_with_login(system)
    portal = FakePortal(script={"capture_claim_number": [{"claim_number": "FK0000000001"}]})
    worker = build_worker(
        system, portals={"fake": portal.handler(CLAIM_STEPS)}, concurrency=2, poll_interval=0.05
    )
    with WorkerThread(worker) as running:
        first = [claim(system, account), claim(system, account)]
        wait_until(lambda: all(status_of(system, t.id) == "completed" for t in first), "the first two tasks")
        assert server.browsers() == 1  # the worker's browser runs on the server, not here
        server.kill()
        after = claim(system, account)  # claimed while the server is down: it waits for a browser
        wait_until(lambda: status_of(system, after.id) == "running", "the worker to take the task")
        server.start()
        wait_until(lambda: status_of(system, after.id) == "completed", "a task after the server's restart")
        assert server.browsers() == 1
    assert running.stats.finished == 3 and running.stats.released == 0
    assert portal.calls["submit_claim"] == 3
    records = [r for r in caplog.records if r.levelno >= logging.INFO and r.name == "runner.core.pool"]
    changes = [(r.getMessage(), getattr(r, "server", None)) for r in records]
    messages = [m for m, _ in changes]
    assert messages[0] == "browser server connected" and messages[-1] == "browser server up"
    assert {"browser server disconnected", "browser server down"} <= set(messages)
    assert {s for _, s in changes} == {server.endpoint}


def test_a_server_at_its_cap_runs_one_task_at_a_time(remote_system: System, server: BrowserServer) -> None:
    system = remote_system
    account = account_with_login(system)
    pool = remote_pool(server.endpoint, max_contexts=1)
    seen: list[int] = []

    async def login(ctx: StepContext) -> None:
        # Give a second context time to open next to this one, as it would without the cap.
        deadline = time.monotonic() + 1.5
        while pool.in_use < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        seen.append(pool.in_use)

    fake = FakePortal().handler(CLAIM_STEPS)
    handler = PortalHandler(
        fake.key, fake.name, fake.version, {**fake.scripts, "login": login}, fake.reconcilers
    )
    worker = Worker(
        system.queue,
        build_executor(system, portals={"fake": handler}),
        pool,
        concurrency=2,
        poll_interval=0.05,
    )
    tasks = [claim(system, account), claim(system, account)]
    stats = run_async(lambda: worker.run(once=True))
    assert [status_of(system, t.id) for t in tasks] == ["completed", "completed"]
    assert stats.claimed == 2 and stats.finished == 2
    assert seen == [1, 1]
    assert pool.in_use == 0
