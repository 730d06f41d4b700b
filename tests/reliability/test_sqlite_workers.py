"""Several worker processes on one SQLite file (WAL, immediate transactions, busy timeout): every
task is finished exactly once and nobody sees "database is locked".

Two levels: four processes looping claim / start / heartbeat / finish through `runner.core`'s
queue over a few hundred tasks (no browser), and three `sopwright worker --once` processes running
a dozen eligibility checks against the mock portal.
"""

from __future__ import annotations

import json
import os
import re
import select
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import col
from sqlmodel import select as sql_select

from runner.core.crypto import SecretBox
from runner.core.db import session_scope
from runner.core.settings import Settings
from runner.core.system import System, build
from runner.core.tables import Task, TaskEvent, WebhookDelivery
from tests.support.portal_server import MockPortalAdmin, running_portal

ROOT = Path(__file__).resolve().parents[2]
TASKS = 240
PROCESSES = 4
DEADLINE_SECONDS = 90.0

# One worker process of the stress: waits for "go" on stdin (so all start together), then claims
# 1-3 tasks at a time and walks each through start, a heartbeat and finish, each in its own
# transaction, until nothing is pending. Prints the ids it finished and the errors it saw as JSON.
CHILD = r"""
import json, random, sys, traceback
from runner.core import db
from runner.core.db import session_scope
from runner.core.queue import Queue
from runner.core.sopbook import SopBook
from runner.core.states import TaskStatus
from runner.core.transitions import move
from sops.loader import SopLibrary

url, owner = sys.argv[1], sys.argv[2]
engine = db.create_engine(url)
queue = Queue(engine, sops=SopBook(engine, SopLibrary.builtin()), lease_seconds=60)
rng = random.Random(owner)
finished, errors = [], []
print("ready", flush=True)
sys.stdin.readline()
while True:
    try:
        claimed = queue.claim(owner, rng.randint(1, 3))
        if not claimed:
            if queue.next_due_in() is None:
                break
            continue
        for lease, _task in claimed:
            with session_scope(engine) as session:
                move(session, queue.hold(session, lease), TaskStatus.RUNNING, actor=owner, action="start")
            queue.heartbeat(lease)
            with session_scope(engine) as session:
                task = queue.hold(session, lease)
                task.result = {"finished_by": owner}
                task.lease_owner = None
                task.lease_expires_at = None
                move(session, task, TaskStatus.COMPLETED, actor=owner, action="finish")
            finished.append(lease.task_id)
    except Exception as exc:
        errors.append(f"{type(exc).__name__}: {exc}")
        if len(errors) > 20:
            break
print(json.dumps({"owner": owner, "finished": finished, "errors": errors}), flush=True)
"""


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'sopwright.db'}"


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


def child_env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOPWRIGHT_")}
    env.update(
        SOPWRIGHT_DATA_DIR=str(settings.data_dir),
        SOPWRIGHT_DATABASE_URL=settings.resolved_database_url(),
        SOPWRIGHT_SECRET_KEY=str(settings.secret_key),
        SOPWRIGHT_ALLOW_HOSTS=settings.allow_hosts,
        PYTHONPATH=str(ROOT),
        **extra,
    )
    return env


def read_line(process: subprocess.Popen[str], deadline: float) -> str:
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], max(0.0, deadline - time.monotonic()))
    if not ready:
        pytest.fail("A stress process said nothing before the deadline.")
    return process.stdout.readline()


def test_four_processes_claim_and_finish_every_task_exactly_once(core: System, settings: Settings) -> None:
    account = core.accounts.create("Stress Clinic").account
    with session_scope(core.engine) as session:  # a few hundred pending tasks, in one transaction
        for number in range(1, TASKS + 1):
            session.add(
                Task(
                    account_id=account.id,
                    task_number=number,
                    type="check_eligibility",
                    status="pending",
                    handler="check_eligibility_1",
                    title=f"Check eligibility #{number}",
                    instructions="SOP: stress",
                    data="member_id: W1",
                    fields={},
                    sop_version=1,
                )
            )
    deadline = time.monotonic() + DEADLINE_SECONDS
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, settings.resolved_database_url(), f"stress-{n}"],
            env=child_env(settings),
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(PROCESSES)
    ]
    try:
        for child in children:
            assert read_line(child, deadline).strip() == "ready"
        for child in children:  # the barrier: all four start claiming together
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        reports = []
        for child in children:
            line = read_line(child, deadline)
            assert line, child.stderr.read() if child.stderr else ""
            reports.append(json.loads(line))
            assert child.wait(timeout=max(1.0, deadline - time.monotonic())) == 0
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
            child.communicate()  # reap it and close its pipes
    errors = [e for r in reports for e in r["errors"]]
    assert errors == []  # no OperationalError ("database is locked"), no lost lease, nothing
    finished = Counter(task_id for r in reports for task_id in r["finished"])
    assert len(finished) == TASKS and set(finished.values()) == {1}
    assert sum(1 for r in reports if r["finished"]) >= 2, "the processes did not actually share the work"

    with session_scope(core.engine, readonly=True) as session:
        tasks = list(session.exec(sql_select(Task)).all())
        claims = Counter(
            session.exec(sql_select(TaskEvent.task_id).where(col(TaskEvent.kind) == "claim")).all()
        )
        outbox = Counter(session.exec(sql_select(WebhookDelivery.task_id)).all())
    assert {t.status for t in tasks} == {"completed"}
    assert {t.attempts for t in tasks} == {1}
    finisher = {task_id: r["owner"] for r in reports for task_id in r["finished"]}
    assert all(t.result == {"finished_by": finisher[t.id]} for t in tasks)
    assert set(claims.values()) == {1} and len(claims) == TASKS
    assert set(outbox.values()) == {1} and len(outbox) == TASKS  # one task_finished row each
    assert len({t.account_id for t in tasks}) == 1 and tasks[0].account_id == account.id


@pytest.mark.e2e
def test_three_worker_processes_on_one_sqlite_file_run_a_dozen_checks(
    core: System, settings: Settings
) -> None:
    with running_portal(admin=True) as portal_url:
        admin = MockPortalAdmin(portal_url)
        try:
            user = admin.user("acme")
            account = core.accounts.create("Shared File Clinic").account
            core.credentials.add(
                account.id,
                payer="acme",
                url=f"{portal_url}/acme",
                username=user["username"],
                password=user["password"],
                totp_secret=user["totp_secret"],
                max_sessions=4,
                rate_per_minute=600,
            )
            data = (
                "member id: SYN100001\npatient: Ada Testmember\ndate of birth: 1980-04-12\n"
                "payer: Acme Health\nprovider npi: 2000000002\nservice type: 30\n"
            )
            ids = [
                core.tasks.create(account, type="check_eligibility", data=data, actor="test").id
                for _ in range(12)
            ]
            env = child_env(
                settings,
                SOPWRIGHT_TRACE="off",
                SOPWRIGHT_POLL_SCALE="0.01",
                SOPWRIGHT_WORKER_CONCURRENCY="2",
                SOPWRIGHT_LOG_LEVEL="INFO",
            )
            command = [sys.executable, "-m", "runner.cli.main", "worker", "--once"]
            workers = [
                subprocess.Popen(
                    command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
                )
                for _ in range(3)
            ]
            outputs = []
            try:
                for worker in workers:
                    output, _ = worker.communicate(timeout=120)
                    outputs.append(output)
                    assert worker.returncode == 0, output
            finally:
                for worker in workers:
                    if worker.poll() is None:
                        worker.kill()
                        worker.wait()
            submitted = admin.submissions(payer="acme", kind="eligibility")
        finally:
            admin.close()
    text = "\n".join(outputs)
    assert "database is locked" not in text and "OperationalError" not in text, text
    with session_scope(core.engine, readonly=True) as session:
        tasks = list(session.exec(sql_select(Task).where(col(Task.id).in_(ids))).all())
    assert [t.status for t in tasks] == ["completed"] * 12, [(t.status, t.notes) for t in tasks]
    assert len(submitted) == 12  # each check ran once on the portal
    claimed = [int(m) for m in re.findall(r"worker stopped: (\d+) claimed", text)]
    assert len(claimed) == 3 and sum(claimed) == 12, text
