"""A follow-up survives a worker SIGKILL and a restart of everything: it is just a task row (issue 13).

The processes of a deployment on PostgreSQL, as the chaos run starts them (`bench/chaos_fleet.py`):
`sopwright serve --no-worker` (the API and a webhook dispatcher) and a `sopwright worker` (real
Chromium), the mock portal, a webhook receiver. Two pended authorizations (one per payer) each get
a follow-up that waits `pending` for its next check. Then:

1. the worker's process group (its browser too) and the API are SIGKILLed and started again; the
   portal's clock moves past the payer's decision and the first follow-up is asked for its check:
   it completes with the decision;
2. the second follow-up's check is made slow (portal latency) and its worker SIGKILLed while the
   check runs; the lease runs out, the restarted worker retries the check and it completes.

Each of the four tasks is announced by exactly one acknowledged webhook, the follow-ups' naming
their parents.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import select

from runner.core import db
from runner.core.db import session_scope
from runner.core.settings import Settings
from runner.core.tables import Task, TaskEvent, WebhookDelivery
from tests.conftest import POSTGRES_ADMIN_URL
from tests.e2e.handlers import task_data

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from chaos_fleet import Fleet, fleet_env
from chaos_harness import set_up
from chaos_receiver import FlakyReceiver
from harness import FINAL, PY, SECRET_KEY, free_port, fresh_database, process, running_portal

pytestmark = pytest.mark.postgres

WAIT_SECONDS = 300.0  # for one condition; a loaded 2-core machine starts Chromium slowly


def wait_for(what: str, condition: Callable[[], Any], seconds: float = WAIT_SECONDS) -> Any:
    """Poll `condition` until it returns something truthy (and return it); fail after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)  # the next look; bounded by `deadline`
    raise AssertionError(f"timed out waiting for {what}")


class Deployment:
    """The API server and one worker, each SIGKILLable and restartable."""

    def __init__(self, env: dict[str, str], work: Path, api_key: str) -> None:
        self.env, self.work, self.api_key = env, work, api_key
        self.fleet = Fleet(1, 1, env, work)
        self._api: contextlib.ExitStack | None = None
        self._api_proc: subprocess.Popen[bytes] | None = None
        self.api_url = ""
        self._starts = 0

    def start_api(self) -> None:
        self._starts += 1
        port = free_port()
        self.api_url = f"http://127.0.0.1:{port}"
        serve = [PY, "-m", "runner.cli.main", "serve", "--no-worker", "--port", str(port)]
        stack = contextlib.ExitStack()
        log = self.work / f"serve-{self._starts}.log"
        self._api_proc = stack.enter_context(process("API", serve, self.env, log, f"{self.api_url}/healthz"))
        self._api = stack

    def kill_api(self) -> None:
        """SIGKILL: no shutdown handler, nothing flushed."""
        assert self._api is not None and self._api_proc is not None
        os.kill(self._api_proc.pid, signal.SIGKILL)
        self._api_proc.wait(timeout=30)
        self._api.close()

    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.api_url, headers={"Authorization": f"Bearer {self.api_key}"}, timeout=60
        )

    def stop(self) -> None:
        self.fleet.stop_all()
        if self._api is not None:
            self._api.close()


@contextlib.contextmanager
def deployment() -> Iterator[tuple[Deployment, Any, FlakyReceiver, str]]:
    work = Path(tempfile.mkdtemp(prefix="sopwright-follow-up-restart-"))
    receiver = FlakyReceiver(0.0, seed=1)
    with (
        fresh_database(POSTGRES_ADMIN_URL, "sopwright_followup") as url,
        receiver.running(),
        running_portal(work, 0) as portal,
    ):
        settings = Settings(data_dir=work, database_url=url, secret_key=SECRET_KEY, allow_hosts="127.0.0.1")
        setup = set_up(settings, portal, receiver.url, 1)
        receiver.secret = setup.webhook_secret
        env = fleet_env(work, url)
        # A pended authorization is decided by the portal's clock only (30 minutes), never by
        # the number of looks: the in-attempt look finds it pended, and so does any early check.
        portal.knobs(pended_polls=1000, pended_minutes=30)
        running = Deployment(env, work, setup.api_key)
        try:
            running.start_api()
            running.fleet.start_all()
            yield running, portal, receiver, url
        finally:
            running.stop()
            portal.admin.close()


def row(url: str, public_id: int) -> Task:
    engine = db.create_engine(url)
    try:
        with session_scope(engine, readonly=True) as session:
            return session.exec(select(Task).where(Task.public_id == public_id)).one()
    finally:
        engine.dispose()


def deliveries(url: str) -> Counter[str]:
    """task_finished deliveries per task row id."""
    engine = db.create_engine(url)
    try:
        with session_scope(engine, readonly=True) as session:
            rows = session.exec(select(WebhookDelivery).where(WebhookDelivery.event == "task_finished")).all()
            return Counter(d.task_id for d in rows)
    finally:
        engine.dispose()


def actors(url: str, task: Task) -> set[str]:
    """Who wrote the task's timeline (the reaper settles an attempt whose worker died)."""
    engine = db.create_engine(url)
    try:
        with session_scope(engine, readonly=True) as session:
            return set(session.exec(select(TaskEvent.actor).where(TaskEvent.task_id == task.id)).all())
    finally:
        engine.dispose()


def pended_with_follow_up(url: str, parent_id: int) -> Task | None:
    """The parent's follow-up once the parent has ended pended and the follow-up waits."""
    parent = row(url, parent_id)
    child_id = (parent.result or {}).get("follow_up_task_id")
    if parent.status not in FINAL or not isinstance(child_id, int):
        return None
    child = row(url, child_id)
    return child if child.status == "pending" and child.lease_owner is None else None


def test_a_follow_up_survives_sigkills_and_a_restart_of_everything() -> None:
    with deployment() as (running, portal, receiver, url):
        with running.client() as api:
            posted = {}
            for payer in ("acme", "beacon"):
                data = task_data.authorization(payer, task_data.AUTH_PENDED)
                answer = api.post("/tasks", json={"type": "submit_prior_authorization", "data": data})
                assert answer.status_code in (200, 201), answer.text
                posted[payer] = answer.json()["id"]
        first = wait_for("acme's follow-up", lambda: pended_with_follow_up(url, posted["acme"]))
        second = wait_for("beacon's follow-up", lambda: pended_with_follow_up(url, posted["beacon"]))
        assert row(url, posted["acme"]).status == "completed_with_issues"  # pended

        # 1. Everything dies between checks and comes back: the follow-ups are rows, still pending.
        running.kill_api()
        running.fleet.kill(0)  # SIGKILL to the worker's group (its browser too); a new one starts
        running.start_api()
        for child in (first, second):
            assert row(url, child.public_id).status == "pending"
        portal.admin.post("/_mock/clock/advance", json={"seconds": 31 * 60}).raise_for_status()
        with running.client() as api:
            assert api.post(f"/tasks/{first.public_id}/follow-up").status_code == 200
        done = wait_for("the first follow-up's check", lambda: final(url, first.public_id))
        assert done.status == "completed", done.notes
        assert (done.result or {}).get("decision") == "approved"

        # 2. The worker is SIGKILLed while the second follow-up's check runs: it is retried.
        portal.knobs(latency_ms=1500)  # every portal page slow: the check is still on the portal
        with running.client() as api:
            assert api.post(f"/tasks/{second.public_id}/follow-up").status_code == 200
        held = wait_for("the second check to run", lambda: running_row(url, second.public_id))
        running.fleet.kill(0)
        portal.knobs(latency_ms=0)
        done = wait_for("the second follow-up's retried check", lambda: final(url, second.public_id))
        assert done.status == "completed", done.notes
        assert (done.result or {}).get("decision") == "approved"
        assert "reaper" in actors(url, done), "the killed check was not settled by the reaper"
        assert held.lease_owner not in (None, done.lease_owner)

        # Exactly one webhook per task, each acknowledged once; the follow-ups name their parents.
        tasks = {posted["acme"], posted["beacon"], first.public_id, second.public_id}
        wait_for("every webhook acknowledged", lambda: set(receiver.task_of.values()) >= tasks, 120)
        per_task = Counter(receiver.task_of.values())
        assert {t: per_task[t] for t in tasks} == dict.fromkeys(tasks, 1)
        assert set(deliveries(url).values()) == {1} and len(deliveries(url)) == 4
        with running.client() as api:
            for child, parent in ((first, "acme"), (second, "beacon")):
                body = api.get(f"/tasks/{child.public_id}").json()
                assert body["parent_task_id"] == posted[parent], body


def final(url: str, public_id: int) -> Task | None:
    task = row(url, public_id)
    return task if task.status in FINAL else None


def running_row(url: str, public_id: int) -> Task | None:
    task = row(url, public_id)
    return task if task.status == "running" and task.lease_owner else None
