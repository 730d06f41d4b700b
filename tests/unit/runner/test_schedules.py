"""Schedules on SQLite and PostgreSQL with an injected clock: once per due time across three
processes (each its own engine and owner), once after an outage, a dead firer's batch found
again, failures reported, {date+N} business days in the schedule's time zone, URL sources."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from runner.core import db
from runner.core.db import session_scope
from runner.core.errors import InvalidRequest
from runner.core.schedules import Schedules, next_due
from runner.core.sources import source_for
from runner.core.system import System
from runner.core.tables import Account, Batch, Schedule, Task, WebhookDelivery
from tests.unit.runner.test_batches import csv_file, good_row

WEEKDAYS_18 = "0 18 * * 1-5"
NEW_YORK = "America/New_York"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def scheduler(system: System, clock: Clock, owner: str, engine: object = None) -> Schedules:
    return Schedules(
        engine or system.engine,  # type: ignore[arg-type]
        system.batches,
        system.destinations.for_use("schedule source", InvalidRequest),  # type: ignore[arg-type]
        max_bytes=system.settings.batch_max_bytes,
        max_rows=system.settings.batch_max_rows,
        owner=owner,
        clock=clock,
    )


@pytest.fixture
def account(system: System) -> Account:
    return system.accounts.create("Clinic Nightly").account


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "appointments.csv"
    path.write_bytes(csv_file([good_row(i) for i in range(3)]))
    return path


def batches_of(system: System) -> list[Batch]:
    with session_scope(system.engine, readonly=True) as session:
        return list(session.exec(select(Batch).order_by(Batch.id)))  # type: ignore[arg-type]


def schedule_row(system: System, schedule_id: int | None) -> Schedule:
    with session_scope(system.engine, readonly=True) as session:
        row = session.get(Schedule, schedule_id)
        assert row is not None
        return row


# Thursday 2026-12-03 17:00 in New York (22:00 UTC): the next firing is 18:00 that day.
THURSDAY_5PM = datetime(2026, 12, 3, 22, 0, tzinfo=UTC)


def test_three_processes_fire_a_due_schedule_once(system: System, account: Account, source: Path) -> None:
    clock = Clock(THURSDAY_5PM)
    schedule = scheduler(system, clock, "p0").add(
        account, cron=WEEKDAYS_18, type="check_eligibility", source=str(source), timezone=NEW_YORK
    )
    assert schedule.next_fire_at == datetime(2026, 12, 3, 23, 0, tzinfo=UTC)  # 18:00 EST
    engines = [db.create_engine(system.settings.resolved_database_url()) for _ in range(3)]
    processes = [scheduler(system, clock, f"p{i}", engine) for i, engine in enumerate(engines)]
    try:
        assert [p.fire_due() for p in processes] == [0, 0, 0]  # not due yet
        clock.now = datetime(2026, 12, 3, 23, 0, 5, tzinfo=UTC)
        barrier = threading.Barrier(3)

        def race(process: Schedules) -> int:
            barrier.wait()
            return process.fire_due()

        with ThreadPoolExecutor(3) as pool:
            fired = list(pool.map(race, processes))
        assert sorted(fired) == [0, 0, 1]
        assert [p.fire_due() for p in processes] == [0, 0, 0]
    finally:
        for engine in engines:
            engine.dispose()
    [batch] = batches_of(system)
    assert batch.created == 3 and batch.schedule_id == schedule.id and batch.priority == "batch"
    row = schedule_row(system, schedule.id)
    assert row.last_batch_id == batch.id and row.lease_owner is None
    assert row.next_fire_at is not None and row.next_fire_at.replace(tzinfo=UTC) == datetime(
        2026, 12, 4, 23, 0, tzinfo=UTC
    )


def test_an_outage_over_several_due_times_fires_once(system: System, account: Account, source: Path) -> None:
    clock = Clock(THURSDAY_5PM)
    process = scheduler(system, clock, "p0")
    schedule = process.add(
        account, cron=WEEKDAYS_18, type="check_eligibility", source=str(source), timezone=NEW_YORK
    )
    clock.now = datetime(2026, 12, 8, 15, 0, tzinfo=UTC)  # back on Tuesday morning: Thu, Fri, Mon missed
    assert process.fire_due() == 1
    assert process.fire_due() == 0
    assert len(batches_of(system)) == 1
    row = schedule_row(system, schedule.id)
    assert row.next_fire_at is not None and row.next_fire_at.replace(tzinfo=UTC) == datetime(
        2026, 12, 8, 23, 0, tzinfo=UTC
    )


def test_a_firer_that_died_after_creating_the_batch_leaves_no_second_batch(
    system: System, account: Account, source: Path
) -> None:
    clock = Clock(THURSDAY_5PM)
    dead = scheduler(system, clock, "dead")
    schedule = dead.add(
        account, cron=WEEKDAYS_18, type="check_eligibility", source=str(source), timezone=NEW_YORK
    )
    clock.now = datetime(2026, 12, 3, 23, 0, 1, tzinfo=UTC)
    taken = dead._take()
    assert taken is not None
    row, due = taken
    dead._create_batch(row, due, key=f"schedule:{row.id}:{due.isoformat()}")  # then SIGKILL: no settle
    alive = scheduler(system, clock, "alive")
    assert alive.fire_due() == 0  # the dead process's lease still holds
    clock.now += timedelta(minutes=11)  # past the lease
    assert alive.fire_due() == 1
    [batch] = batches_of(system)
    assert schedule_row(system, schedule.id).last_batch_id == batch.id
    with session_scope(system.engine, readonly=True) as session:
        assert len(session.exec(select(Task)).all()) == 3


def test_a_source_that_cannot_be_read_is_reported_and_the_schedule_goes_on(
    system: System, account: Account, tmp_path: Path
) -> None:
    clock = Clock(THURSDAY_5PM)
    process = scheduler(system, clock, "p0")
    missing = tmp_path / "appointments-{date+1}.csv"
    schedule = process.add(
        account, cron=WEEKDAYS_18, type="check_eligibility", source=str(missing), timezone=NEW_YORK
    )
    clock.now = datetime(2026, 12, 4, 23, 0, 1, tzinfo=UTC)  # Friday 18:00: reads Monday's file
    assert process.fire_due() == 1
    row = schedule_row(system, schedule.id)
    assert row.last_error is not None and "appointments-2026-12-07.csv does not exist" in row.last_error
    with session_scope(system.engine, readonly=True) as session:
        [event] = session.exec(
            select(WebhookDelivery).where(WebhookDelivery.event == "schedule_failed")
        ).all()
    assert (
        event.payload["data"]["schedule_id"] == schedule.id
        and "does not exist" in event.payload["data"]["error"]
    )
    assert batches_of(system) == []
    (tmp_path / "appointments-2026-12-08.csv").write_bytes(csv_file([good_row(1)]))
    clock.now = datetime(2026, 12, 7, 23, 0, 1, tzinfo=UTC)  # Monday 18:00 reads Tuesday's
    assert process.fire_due() == 1
    assert schedule_row(system, schedule.id).last_error is None and len(batches_of(system)) == 1


def test_business_days_and_time_zones() -> None:
    friday_6pm = datetime(2026, 12, 4, 23, 0, tzinfo=UTC)
    assert (
        source_for("a-{date}-{date+1}-{date+2}.csv", friday_6pm, NEW_YORK)
        == "a-2026-12-04-2026-12-07-2026-12-08.csv"
    )
    # Across the spring change of clocks, 18:00 stays 18:00 local time.
    assert next_due(WEEKDAYS_18, NEW_YORK, datetime(2026, 3, 6, 23, 30, tzinfo=UTC)) == datetime(
        2026, 3, 9, 22, 0, tzinfo=UTC
    )


def test_pause_resume_remove_run_now_and_bad_input(system: System, account: Account, source: Path) -> None:
    clock = Clock(THURSDAY_5PM)
    process = scheduler(system, clock, "p0")
    with pytest.raises(InvalidRequest, match="Invalid cron expression"):
        process.add(account, cron="0 18 * *", type="check_eligibility", source=str(source))
    with pytest.raises(InvalidRequest, match="Unknown time zone"):
        process.add(
            account, cron=WEEKDAYS_18, type="check_eligibility", source=str(source), timezone="Mars/Base"
        )
    schedule = process.add(account, cron=WEEKDAYS_18, type="check_eligibility", source=str(source))
    assert schedule.timezone == "UTC"  # the account names none
    assert schedule.id is not None
    process.pause(schedule.id)
    clock.now += timedelta(days=3)
    assert process.fire_due() == 0
    resumed = process.resume(schedule.id)
    assert resumed.next_fire_at is not None and resumed.next_fire_at > clock.now  # nothing made up
    batch = process.run_now(schedule.id)
    assert batch.created == 3 and batch.schedule_id == schedule.id
    process.remove(schedule.id)
    assert process.of_account(account.id) == []


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    (tmp_path / "feed.csv").write_bytes(csv_file([good_row(1), good_row(2)]))

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(tmp_path), **kwargs)  # type: ignore[arg-type]

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_a_url_source_is_fetched_and_a_missing_one_reported(
    system: System, account: Account, served: str
) -> None:
    clock = Clock(THURSDAY_5PM)
    process = scheduler(system, clock, "p0")
    good = process.add(account, cron=WEEKDAYS_18, type="check_eligibility", source=f"{served}/feed.csv")
    bad = process.add(
        account, cron=WEEKDAYS_18, type="check_eligibility", source=f"{served}/none-{{date}}.csv"
    )
    assert good.id is not None and bad.id is not None
    assert process.run_now(good.id).created == 2
    with pytest.raises(Exception, match="HTTP 404"):
        process.run_now(bad.id)
    with pytest.raises(InvalidRequest):
        process.add(account, cron=WEEKDAYS_18, type="check_eligibility", source="http://10.1.2.3/feed.csv")
