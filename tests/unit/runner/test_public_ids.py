"""Integer public ids: the 0005 migration numbers existing rows, and new rows draw distinct ids
from one installation-wide counter per table, also under concurrent creates on PostgreSQL."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import command
from sqlmodel import select

from runner.core import db
from runner.core.db import session_scope
from runner.core.tables import (
    Account,
    Task,
    TaskEvent,
    TaskFile,
    Trajectory,
    TrajectoryStep,
    WebhookDelivery,
)

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def _rows_at_0004(engine: sa.Engine) -> dict[str, list[str]]:
    """Two accounts, three tasks (one with a file, events and two attempts) as 0004 stored them."""
    meta = sa.MetaData()
    meta.reflect(engine)
    accounts, tasks = meta.tables["accounts"], meta.tables["tasks"]
    trajectories, steps = meta.tables["trajectories"], meta.tables["trajectory_steps"]
    ids: dict[str, list[str]] = {"accounts": [], "tasks": [], "trajectories": []}
    with engine.begin() as conn:
        # Created out of id order: numbering follows creation time.
        for n, name in enumerate(["second", "first"]):
            ids["accounts"].append(account_id := str(uuid.uuid4()))
            conn.execute(
                accounts.insert().values(
                    id=account_id,
                    name=name,
                    webhook_secret_enc="x",
                    webhook_events=[],
                    defaults={},
                    task_counter=0,
                    created_at=T0 + timedelta(days=1 - n),
                    updated_at=T0,
                )
            )
        for n in range(3):
            ids["tasks"].append(task_id := str(uuid.uuid4()))
            conn.execute(
                tasks.insert().values(
                    id=task_id,
                    account_id=ids["accounts"][n % 2],
                    task_number=n + 1,
                    type="submit_claim",
                    status="completed",
                    handler="submit_claim_1",
                    title=f"Submit claim #{n + 1}",
                    instructions="SOP: ...",
                    raw_inputs={},
                    fields={},
                    problems=[],
                    sop_version=1,
                    sop_source="builtin",
                    attempts=2,
                    lease_token=0,
                    approved_gates=[],
                    created_at=T0 + timedelta(hours=n),
                    updated_at=T0,
                )
            )
        first = ids["tasks"][0]
        for attempt in (1, 2):
            ids["trajectories"].append(trajectory_id := str(uuid.uuid4()))
            conn.execute(
                trajectories.insert().values(
                    id=trajectory_id,
                    task_id=first,
                    account_id=ids["accounts"][0],
                    attempt=attempt,
                    started_at=T0 + timedelta(minutes=attempt),
                )
            )
            conn.execute(
                steps.insert().values(
                    trajectory_id=trajectory_id,
                    position=0,
                    step_id="login",
                    script="login",
                    outcome="ok",
                    started_at=T0,
                )
            )
        conn.execute(tasks.update().where(tasks.c.id == first).values(trajectory_id=ids["trajectories"][1]))
        conn.execute(
            meta.tables["task_files"]
            .insert()
            .values(
                id=str(uuid.uuid4()),
                task_id=first,
                account_id=ids["accounts"][0],
                filename="a.pdf",
                content_type="application/pdf",
                size=1,
                sha256="0" * 64,
                created_at=T0,
            )
        )
        conn.execute(
            meta.tables["webhook_deliveries"]
            .insert()
            .values(
                id=str(uuid.uuid4()),
                account_id=ids["accounts"][0],
                task_id=first,
                event="task_finished",
                status="pending",
                attempts=0,
                created_at=T0,
                payload={
                    "event": "task_finished",
                    "data": {
                        "id": first,
                        "accountId": ids["accounts"][0],
                        "trajectory_id": ids["trajectories"][1],
                        "task_number": 1,
                    },
                },
            )
        )
        conn.execute(
            meta.tables["task_events"]
            .insert()
            .values(task_id=first, account_id=ids["accounts"][0], at=T0, actor="api", kind="create")
        )
    return ids


def test_upgrading_numbers_every_existing_row_and_keeps_them_all(empty_url: str) -> None:
    engine = db.create_engine(empty_url)
    db.upgrade(engine, "0004")
    ids = _rows_at_0004(engine)
    db.upgrade(engine)
    with session_scope(engine, readonly=True) as session:
        accounts = {a.id: a for a in session.exec(select(Account)).all()}
        tasks = {t.id: t for t in session.exec(select(Task)).all()}
        trajectories = {t.id: t for t in session.exec(select(Trajectory)).all()}
        assert len(session.exec(select(TaskFile)).all()) == 1
        assert len(session.exec(select(TaskEvent)).all()) == 1
        assert len(session.exec(select(TrajectoryStep)).all()) == 2
        (delivery,) = session.exec(select(WebhookDelivery)).all()
    assert set(accounts) == set(ids["accounts"])
    assert set(tasks) == set(ids["tasks"])
    assert set(trajectories) == set(ids["trajectories"])
    # Distinct integers, numbered in order of creation.
    assert [accounts[i].public_id for i in ids["accounts"]] == [2, 1]
    assert [tasks[i].public_id for i in ids["tasks"]] == [1, 2, 3]
    assert [trajectories[i].public_id for i in ids["trajectories"]] == [1, 2]
    for task in tasks.values():
        assert task.account_public_id == accounts[task.account_id].public_id
    first = tasks[ids["tasks"][0]]
    assert first.trajectory_public_id == trajectories[ids["trajectories"][1]].public_id
    assert tasks[ids["tasks"][1]].trajectory_public_id is None
    # A delivery queued before the upgrade goes out with the integer ids.
    assert (delivery.task_public_id, delivery.payload["data"]) == (
        1,
        {"id": 1, "accountId": 2, "trajectory_id": 2, "task_number": 1},
    )
    # New rows continue after the numbered ones, on either backend.
    with session_scope(engine) as session:
        account = Account(name="third", webhook_secret_enc="x")
        session.add(account)
        session.flush()
        trajectory = Trajectory(task_id=first.id, account_id=first.account_id, attempt=3)
        session.add(trajectory)
        session.flush()
    assert (account.public_id, trajectory.public_id) == (3, 3)
    engine.dispose()


def test_a_downgrade_drops_the_public_ids_and_keeps_the_rows(empty_url: str) -> None:
    engine = db.create_engine(empty_url)
    db.upgrade(engine, "0004")
    ids = _rows_at_0004(engine)
    db.upgrade(engine)
    command.downgrade(db._alembic_config(engine), "0005-1")  # the revision before this one
    columns = {c["name"] for c in sa.inspect(engine).get_columns("tasks")}
    assert "public_id" not in columns
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM tasks")).scalar_one() == len(ids["tasks"])
    db.upgrade(engine)
    engine.dispose()


def _account(engine: sa.Engine, name: str) -> Account:
    with session_scope(engine) as session:
        account = Account(name=name, webhook_secret_enc="x")
        session.add(account)
    return account


def _task(account: Account, number: int) -> Task:
    return Task(
        account_id=account.id,
        task_number=number,
        type="submit_claim",
        status="pending",
        handler="submit_claim_1",
        title="t",
        instructions="i",
        sop_version=1,
    )


def test_rows_inserted_in_one_flush_get_distinct_ids(database_url: str) -> None:
    engine = db.create_engine(database_url)
    db.upgrade(engine)
    account = _account(engine, "one")
    with session_scope(engine) as session:
        tasks = [_task(account, n) for n in range(1, 6)]
        session.add_all(tasks)
    assert len({t.public_id for t in tasks}) == 5
    assert {t.account_public_id for t in tasks} == {account.public_id}
    engine.dispose()


def test_concurrent_creates_from_several_processes_never_share_an_id(database_url: str) -> None:
    """Several engines (as several API processes would have) insert tasks of several accounts at
    once; every task gets its own id."""
    engines = [db.create_engine(database_url) for _ in range(4)]
    db.upgrade(engines[0])
    accounts = [_account(engines[0], f"acct-{n}-{uuid.uuid4().hex[:6]}") for n in range(4)]
    start = threading.Barrier(len(engines))
    drawn: list[int] = []
    lock = threading.Lock()
    failures: list[BaseException] = []

    def create(engine: sa.Engine, account: Account, first: int) -> None:
        try:
            start.wait()
            for n in range(first, first + 25):
                with session_scope(engine) as session:
                    task = _task(account, n)
                    session.add(task)
                with lock:
                    drawn.append(task.public_id)
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [
        threading.Thread(target=create, args=(engine, account, 1))
        for engine, account in zip(engines, accounts, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(drawn) == 100 and len(set(drawn)) == 100
    for engine in engines:
        engine.dispose()
