"""The outbox invariant survives crashes around the commit: a final task <=> one task_finished row.

A child process finishes tasks and kills itself (os._exit, no cleanup) at one point of one
transaction: before the flush, after the flush, inside the commit (before COMMIT reaches the
database) or just after it. Whatever survives must satisfy the invariant, and finishing the rest
afterwards must too.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import col, select

from runner.core.crypto import SecretBox
from runner.core.db import session_scope
from runner.core.settings import Settings
from runner.core.states import FINAL_STATUSES, TaskStatus
from runner.core.system import System, build
from runner.core.tables import Task, WebhookDelivery
from runner.core.transitions import move

CHILD = r"""
import json, os, sys
from sqlalchemy import event
from runner.core import db
from runner.core.db import session_scope
from runner.core.states import TaskStatus
from runner.core.tables import Task
from runner.core.transitions import move

url, point, ids = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
engine = db.create_engine(url)
crash_at = len(ids) // 2
for i, task_id in enumerate(ids):
    crash = i == crash_at
    if crash and point == "in_commit":
        event.listen(engine, "commit", lambda conn: os._exit(9))
    with session_scope(engine) as session:
        task = session.get(Task, task_id)
        move(session, task, TaskStatus.FAILED, actor="child", action="fail")
        task.notes = "Failed in the child."
        if crash and point == "before_flush":
            os._exit(9)
        session.flush()
        if crash and point == "after_flush":
            os._exit(9)
    if crash and point == "after_commit":
        os._exit(9)
print("finished without crashing")
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


def make_tasks(core: System, count: int) -> list[str]:
    account = core.accounts.create("Crash Clinic", webhook_url="https://8.8.8.8/hooks").account
    return [
        core.tasks.create(account, type="check_eligibility", data="member_id: W100200300", actor="test").id
        for _ in range(count)
    ]


def assert_invariant(core: System) -> tuple[int, int]:
    """Every final task has exactly one task_finished row; no other task has any."""
    with session_scope(core.engine, readonly=True) as session:
        tasks = list(session.exec(select(Task)).all())
        counts = dict(
            session.execute(
                sa.select(col(WebhookDelivery.task_id), sa.func.count())
                .where(col(WebhookDelivery.event) == "task_finished")
                .group_by(col(WebhookDelivery.task_id))
            ).all()
        )
    final = [t for t in tasks if TaskStatus(t.status) in FINAL_STATUSES]
    for task in tasks:
        expected = 1 if TaskStatus(task.status) in FINAL_STATUSES else 0
        assert counts.get(task.id, 0) == expected, (task.id, task.status, counts.get(task.id))
    assert set(counts) <= {t.id for t in final}
    return len(final), len(tasks)


@pytest.mark.parametrize("point", ["before_flush", "after_flush", "in_commit", "after_commit"])
def test_a_crash_around_the_commit_keeps_the_invariant(core: System, settings: Settings, point: str) -> None:
    ids = make_tasks(core, 6)
    child = subprocess.run(
        [sys.executable, "-c", CHILD, settings.resolved_database_url(), point, json.dumps(ids)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == 9, child.stderr
    finished, total = assert_invariant(core)
    committed_before_crash = 3 + (1 if point == "after_commit" else 0)
    assert (finished, total) == (committed_before_crash, 6)
    # Recovery: whatever did not commit is finished again, once.
    with session_scope(core.engine) as session:
        for task in session.exec(
            select(Task).where(col(Task.status).not_in([s.value for s in FINAL_STATUSES]))
        ):
            move(session, task, TaskStatus.FAILED, actor="recovery", action="fail")
    assert assert_invariant(core) == (6, 6)
