"""Dispatchers in separate processes: a killed one is covered by the next (same webhook-id), and
several at once never send the same delivery twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from runner.core.crypto import SecretBox
from runner.core.db import session_scope
from runner.core.settings import Settings
from runner.core.states import TaskStatus
from runner.core.system import System, build
from runner.core.tables import Task, WebhookDelivery
from runner.core.transitions import move
from runner.core.webhooks.receiver import Receiver, Reply

# A dispatcher process with a given lease (short when the test kills it, so that it need not wait a
# minute; long when it must not expire under a loaded machine), and a start signal so that several
# begin together.
CHILD = r"""
import os, sys, time
from datetime import timedelta
from runner.core.settings import Settings
from runner.core.system import build
from runner.core.webhooks.dispatcher import Dispatcher

data_dir, url, key, go, lease = sys.argv[1:6]
core = build(Settings(data_dir=data_dir, database_url=url, secret_key=key, allow_hosts="127.0.0.1"))
hooks = core.webhooks
name = f"child-{os.getpid()}"
lease = timedelta(seconds=float(lease))
dispatcher = Dispatcher(hooks.store, hooks.sender, core.accounts, name=name, batch=2, lease=lease)
while not os.path.exists(go):
    time.sleep(0.01)
print(dispatcher.run_until_idle(), flush=True)
"""


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key=SecretBox.generate_key(),
        allow_hosts="127.0.0.1",
    )


@pytest.fixture
def core(settings: Settings) -> Iterator[System]:
    built = build(settings)
    yield built
    built.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver().running() as running:
        yield running


def finished_tasks(core: System, url: str, count: int) -> tuple[str, set[str]]:
    created = core.accounts.create("Dispatch Clinic", webhook_url=url)
    for _ in range(count):
        task = core.tasks.create(
            created.account, type="check_eligibility", data="member_id: W1", actor="test"
        )
        with session_scope(core.engine) as session:
            row = session.get(Task, task.id)
            assert row is not None
            move(session, row, TaskStatus.FAILED, actor="test", action="fail")
    with session_scope(core.engine, readonly=True) as session:
        ids = {d.id for d in session.exec(select(WebhookDelivery)).all()}
    return created.webhook_secret, ids


def spawn(settings: Settings, go: Path, *, lease: float) -> subprocess.Popen[str]:
    args = [
        str(settings.data_dir),
        settings.resolved_database_url(),
        settings.secret_key or "",
        str(go),
        str(lease),
    ]
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_a_dispatcher_killed_between_post_and_marking_is_covered_with_the_same_id(
    core: System, settings: Settings, receiver: Receiver, tmp_path: Path
) -> None:
    secret, [delivery_id] = finished_tasks(core, receiver.url, 1)
    receiver.reply(Reply(200, delay=3.0))  # hold the first POST while the sender is killed
    go = tmp_path / "go"
    go.touch()
    child = spawn(settings, go, lease=1)
    assert len(receiver.wait_for(1, timeout=30)) == 1
    os.kill(child.pid, signal.SIGKILL)
    child.communicate(timeout=10)  # reaps it and closes its pipes
    assert core.webhooks.store.page(receiver_account(core)).deliveries[0].status == "pending"
    time.sleep(1.1)  # the child's one-second lease runs out
    assert core.webhooks.dispatcher().run_once() == 1
    first, second = receiver.wait_for(2)
    assert first.webhook_id == second.webhook_id == delivery_id
    second.verify(secret)
    delivery = core.webhooks.store.page(receiver_account(core)).deliveries[0]
    assert (delivery.status, delivery.attempts) == ("delivered", 1)


def test_several_dispatcher_processes_send_each_delivery_exactly_once(
    core: System, settings: Settings, receiver: Receiver, tmp_path: Path
) -> None:
    _, ids = finished_tasks(core, receiver.url, 30)
    go = tmp_path / "go"
    # A lease that outlives any send: a lease that runs out mid-send is (correctly) taken over and
    # sent again — at least once — which is the other test's subject, not this one's.
    children = [spawn(settings, go, lease=60) for _ in range(3)]
    time.sleep(0.5)
    go.touch()
    sent = 0
    for child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
        sent += int(out.strip().splitlines()[-1])
    assert sent == 30
    assert sorted(r.webhook_id for r in receiver.received) == sorted(ids)
    page = core.webhooks.store.page(receiver_account(core), limit=100)
    assert {d.status for d in page.deliveries} == {"delivered"}


def receiver_account(core: System) -> str:
    return core.accounts.find("Dispatch Clinic").id
