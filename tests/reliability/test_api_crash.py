"""An accepted `POST /tasks` survives a SIGKILL of the API right after the response.

`sopwright serve --no-worker` runs as a subprocess on the test's database (SQLite file or
PostgreSQL). A task with an uploaded PDF is posted, the server is SIGKILLed the moment the
success response arrives, and a fresh server on the same database and data dir must show the task
`pending` with its file readable and unchanged. With several POSTs in flight at the kill, every
one that got a success response exists afterwards, and no half-created task (a row without its
file) is left behind by the ones cut off.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from runner.core.settings import Settings
from runner.core.system import System
from tests.support.logins import add_logins
from tests.support.ports import free_port
from tests.support.task_fixtures import task_fixture

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_SECONDS = 60.0
ELIGIBILITY = task_fixture("check_eligibility")


def serve_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOPWRIGHT_")}
    env.update(
        SOPWRIGHT_DATA_DIR=str(settings.data_dir),
        SOPWRIGHT_DATABASE_URL=settings.resolved_database_url(),
        SOPWRIGHT_SECRET_KEY=str(settings.secret_key),
        SOPWRIGHT_ALLOW_HOSTS=settings.allow_hosts,
        SOPWRIGHT_LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    return env


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]

    def kill(self) -> None:
        """SIGKILL: no shutdown handler, no flush, no commit of anything in flight."""
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)


@contextmanager
def serving(settings: Settings, log: Path) -> Iterator[Server]:
    """`sopwright serve --no-worker` on a free port, until it answers /healthz (a deadline)."""
    port = free_port()
    command = [sys.executable, "-m", "runner.cli.main", "serve", "--no-worker", "--port", str(port)]
    with log.open("ab") as sink:
        process = subprocess.Popen(
            command, env=serve_env(settings), cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT
        )
    server = Server(f"http://127.0.0.1:{port}", process)
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(f"The API exited during start-up:\n{log.read_text()}")
            try:
                if httpx.get(f"{server.url}/healthz", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"The API did not answer within {START_TIMEOUT_SECONDS} s:\n{log.read_text()}")
            time.sleep(0.05)  # start-up polling against a deadline
        yield server
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


def a_pdf() -> bytes:
    """A small PDF unique to this call (so its sha256 names it alone)."""
    return b"%PDF-1.4\n% sopwright crash test " + uuid.uuid4().hex.encode() + b"\n%%EOF\n"


def post_task(client: httpx.Client, pdf: bytes) -> httpx.Response:
    return client.post(
        "/tasks",
        data={"type": "check_eligibility", "data": ELIGIBILITY},
        files=[("files", ("referral.pdf", pdf, "application/pdf"))],
    )


def assert_stored(client: httpx.Client, task_id: str, pdf: bytes) -> dict[str, Any]:
    """The task is there, pending, and its one file reads back byte for byte."""
    response = client.get(f"/tasks/{task_id}")
    assert response.status_code == 200, response.text
    task: dict[str, Any] = response.json()
    assert task["status"] == "pending", task["notes"]
    [stored] = task["files"]
    assert stored["sha256"] == hashlib.sha256(pdf).hexdigest() and stored["size"] == len(pdf)
    download = client.get(f"/tasks/{task_id}/files/{stored['id']}")
    assert download.status_code == 200
    assert hashlib.sha256(download.content).hexdigest() == stored["sha256"]
    return task


def api_client(server: Server, api_key: str) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {api_key}"}, timeout=30)


def test_a_task_accepted_just_before_a_sigkill_is_there_after_a_restart(
    system: System, settings: Settings, tmp_path: Path
) -> None:
    created = system.accounts.create("Crash Clinic")
    add_logins(system, created.account.id)
    log = tmp_path / "serve.log"
    pdf = a_pdf()
    with serving(settings, log) as server, api_client(server, created.api_key) as client:
        response = post_task(client, pdf)
        server.kill()  # the moment the response is in
        assert response.status_code == 200, response.text
        accepted = response.json()
        assert accepted["status"] == "pending" and len(accepted["files"]) == 1
    with serving(settings, log) as server, api_client(server, created.api_key) as client:
        task = assert_stored(client, accepted["id"], pdf)
        assert task["task_number"] == accepted["task_number"] and task["createdAt"] == accepted["createdAt"]
        # The server goes on numbering after the crash.
        again = post_task(client, a_pdf())
        assert again.status_code == 200 and again.json()["task_number"] == accepted["task_number"] + 1


def test_every_post_answered_before_a_sigkill_survives_it(
    system: System, settings: Settings, tmp_path: Path
) -> None:
    created = system.accounts.create("Busy Clinic")
    add_logins(system, created.account.id)
    log = tmp_path / "serve.log"
    threads_count, kill_after = 6, 8
    accepted: dict[str, bytes] = {}  # task id -> its file
    sent: dict[bytes, str] = {}  # every file sent -> the outcome of its request
    lock = threading.Lock()
    killed = threading.Event()

    with serving(settings, log) as server:

        def client_loop() -> None:
            with api_client(server, created.api_key) as client:
                while not killed.is_set():
                    pdf = a_pdf()
                    with lock:
                        sent[pdf] = "in flight"
                    try:
                        response = post_task(client, pdf)
                    except httpx.TransportError:
                        with lock:
                            sent[pdf] = "cut off"
                        return
                    with lock:
                        sent[pdf] = f"HTTP {response.status_code}"
                        if response.status_code == 200:
                            accepted[response.json()["id"]] = pdf
                            if len(accepted) >= kill_after and not killed.is_set():
                                killed.set()
                                server.kill()  # several other POSTs are on the wire right now

        threads = [threading.Thread(target=client_loop) for _ in range(threads_count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not any(t.is_alive() for t in threads)
    assert killed.is_set(), "the clients stopped before the kill"
    outcomes = sorted(set(sent.values()))
    assert set(outcomes) <= {"HTTP 200", "cut off"}, outcomes
    assert len(accepted) >= kill_after

    with serving(settings, log) as server, api_client(server, created.api_key) as client:
        for task_id, pdf in accepted.items():
            assert_stored(client, task_id, pdf)
        # Requests cut off by the kill may or may not have committed, but never half: whatever
        # task exists is pending with its file.
        by_sha = {hashlib.sha256(pdf).hexdigest(): pdf for pdf in sent}
        listed = client.get("/tasks", params={"limit": 100}).json()["data"]
        assert {t["id"] for t in listed} >= set(accepted)
        for task in listed:
            assert_stored(client, task["id"], by_sha[task["files"][0]["sha256"]])
