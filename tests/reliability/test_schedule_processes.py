"""Three real processes fire one schedule, on SQLite and PostgreSQL: exactly one batch per due
time, and one firing (for the latest due time) after an outage that spanned several.

Each process runs `Schedules.in_background`, as `serve` and `worker` do beside their work,
with its own engine and lease owner, until SIGTERM. Time is injected, never waited for: the
processes read "now" from a file the test writes (CLOCK_FILE below). That clock exists only in
this test; the product's clock is the system time. Each process reports, after every round, the
time that round saw and how many schedules it fired, so the test waits on "every process has
looked at this time" rather than on a fixed sleep.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import col, select

from runner.core.db import session_scope
from runner.core.settings import Settings
from runner.core.system import System
from runner.core.tables import Batch, Schedule
from tests.unit.runner.test_batches import csv_file, good_row
from tests.unit.runner.test_schedules import NEW_YORK, THURSDAY_5PM, WEEKDAYS_18, Clock, scheduler

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = 3
DEADLINE_SECONDS = 120.0  # for each condition; a loaded 2-core machine starts Python slowly

# One firing process: settings from SOPWRIGHT_* (as the CLI reads them), the injected clock from
# the file named by argv[1], a status file (argv[2]) rewritten after each round.
CHILD = r"""
import faulthandler, json, os, signal, sys, threading
faulthandler.register(signal.SIGUSR1)  # the test asks a process that does not stop where it is
# SIGTERM is blocked before any thread starts (threads inherit the mask) and taken by sigwait in
# the main thread, as `sopwright webhooks dispatch` does; the loop runs in `in_background`'s thread,
# as in `serve` and `worker`. A Python handler runs in the main thread between two bytecodes: one
# that sets the stop Event, run while the main thread's loop sat inside that Event's wait holding
# its lock, waited for the lock forever (a process that did not stop on SIGTERM, now and then).
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
from datetime import datetime
from runner.core.batches import Batches
from runner.core.errors import UnsafeDestination
from runner.core.schedules import Schedules
from runner.core.settings import Settings
from runner.core.system import build

clock_file, status_file, owner = sys.argv[1:4]


def clock():
    # Test-only clock: "now" is whatever the test last wrote to clock_file.
    with open(clock_file, encoding="utf-8") as handle:
        return datetime.fromisoformat(handle.read().strip())


class Reporting(Schedules):
    rounds = 0
    fired = 0

    def fire_due(self):
        seen = clock()  # the file only moves forward: this whole round saw at least this time
        fired = super().fire_due()
        Reporting.rounds += 1
        Reporting.fired += fired
        status = {"seen": seen.isoformat(), "rounds": Reporting.rounds, "fired": Reporting.fired}
        with open(status_file + ".tmp", "w", encoding="utf-8") as handle:
            json.dump(status, handle)
        os.replace(status_file + ".tmp", status_file)
        return fired


settings = Settings()
core = build(settings)
schedules = Reporting(
    core.engine,
    Batches(core.engine, core.tasks, core.credentials, max_data_chars=settings.max_data_chars, clock=clock),
    core.destinations.for_use("schedule source", UnsafeDestination),
    max_bytes=settings.batch_max_bytes,
    max_rows=settings.batch_max_rows,
    owner=owner,
    clock=clock,
    poll_seconds=0.2,
)
if os.environ.get("SIGTERM_INSIDE_WAIT"):

    class SigtermInsideWait(threading.Event):
        # The race made certain: the loop sends SIGTERM while its stop Event holds its lock (the
        # loop's wait has a timeout; Thread.start's wait on its own Event has none).
        def wait(self, timeout=None):
            if timeout is not None:
                with self._cond:
                    os.kill(os.getpid(), signal.SIGTERM)
                    len(str(timeout))  # calls: where a Python signal handler would run
            return super().wait(timeout)

    threading.Event = SigtermInsideWait  # the Event `in_background` makes for its loop

with schedules.in_background():
    signal.sigwait({signal.SIGTERM})
core.close()
"""


class Fleet:
    """The firing processes of one run; `stop` sends SIGTERM and waits for each to exit."""

    def __init__(
        self,
        settings: Settings,
        workdir: Path,
        clock_file: Path,
        name: str,
        *,
        size: int = PROCESSES,
        **extra_env: str,
    ) -> None:
        self.status_files = [workdir / f"{name}-{n}.json" for n in range(size)]
        self.logs = [workdir / f"{name}-{n}.log" for n in range(size)]
        env = {k: v for k, v in os.environ.items() if not k.startswith("SOPWRIGHT_")}
        env.update(
            SOPWRIGHT_DATA_DIR=str(settings.data_dir),
            SOPWRIGHT_DATABASE_URL=settings.resolved_database_url(),
            SOPWRIGHT_SECRET_KEY=str(settings.secret_key),
            SOPWRIGHT_ALLOW_HOSTS=settings.allow_hosts,
            PYTHONPATH=str(ROOT),
            **extra_env,
        )
        self.processes = []
        for status, log in zip(self.status_files, self.logs, strict=True):
            with log.open("wb") as output:
                self.processes.append(
                    subprocess.Popen(
                        [sys.executable, "-c", CHILD, str(clock_file), str(status), f"{name}-{status.stem}"],
                        env=env,
                        cwd=ROOT,
                        stdout=output,
                        stderr=subprocess.STDOUT,
                    )
                )

    def statuses(self) -> list[dict[str, object] | None]:
        found: list[dict[str, object] | None] = []
        for path in self.status_files:
            try:
                found.append(json.loads(path.read_text(encoding="utf-8")))
            except FileNotFoundError:
                found.append(None)
        return found

    def all_saw(self, now: datetime) -> bool:
        """Every process has finished a round that looked at `now` (or later)."""
        self.check_alive()
        return all(s is not None and datetime.fromisoformat(str(s["seen"])) >= now for s in self.statuses())

    def rounds(self) -> list[int]:
        return [int(str(s["rounds"])) if s else 0 for s in self.statuses()]

    def settle(self, now: datetime) -> None:
        """Wait until every process has looked at `now`, then twice more (a late look must fire
        nothing again)."""
        wait_for(lambda: self.all_saw(now), f"{PROCESSES} processes looking at {now.isoformat()}")
        rounds = self.rounds()
        wait_for(
            lambda: all(n >= r + 2 for n, r in zip(self.rounds(), rounds, strict=True)),
            "two more rounds in every process",
        )

    def fired(self) -> int:
        return sum(int(str(s["fired"])) for s in self.statuses() if s)

    def check_alive(self) -> None:
        for process, log in zip(self.processes, self.logs, strict=True):
            if process.poll() is not None:
                pytest.fail(f"A firing process exited ({process.returncode}):\n{log.read_text()[-3000:]}")

    def stop(self) -> list[int]:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        return self.exit_codes()

    def exit_codes(self) -> list[int]:
        """Each process's exit code, waiting DEADLINE_SECONDS at most for each (then its stacks)."""
        codes = []
        for process, log in zip(self.processes, self.logs, strict=True):
            try:
                codes.append(process.wait(timeout=DEADLINE_SECONDS))
            except subprocess.TimeoutExpired:
                process.send_signal(signal.SIGUSR1)  # faulthandler: every thread's stack to its log
                time.sleep(2)  # a diagnostic, after the failure: the stacks reach the log
                pytest.fail(f"A firing process did not stop on SIGTERM:\n{log.read_text()[-6000:]}")
        return codes

    def kill(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=30)


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"Not within {DEADLINE_SECONDS:.0f} s: {what}.")
        time.sleep(0.05)  # polling a condition, not waiting for time to pass


@pytest.fixture
def fleets() -> Iterator[list[Fleet]]:
    started: list[Fleet] = []
    yield started
    for fleet in started:  # a failed test leaves no process behind (and no lock on the database)
        fleet.kill()


def batches_of(system: System) -> list[Batch]:
    with session_scope(system.engine, readonly=True) as session:
        return list(session.exec(select(Batch).order_by(col(Batch.id))))


def test_three_processes_fire_once_per_due_time_and_once_after_an_outage(
    system: System, settings: Settings, tmp_path: Path, fleets: list[Fleet]
) -> None:
    account = system.accounts.create("Clinic Nightly").account
    source = tmp_path / "appointments.csv"
    source.write_bytes(csv_file([good_row(i) for i in range(3)]))
    clock_file = tmp_path / "clock"

    def set_clock(now: datetime) -> None:
        clock_file.with_suffix(".tmp").write_text(now.isoformat(), encoding="utf-8")
        os.replace(clock_file.with_suffix(".tmp"), clock_file)

    set_clock(THURSDAY_5PM)
    schedule = scheduler(system, Clock(THURSDAY_5PM), "setup").add(
        account, cron=WEEKDAYS_18, type="check_eligibility", source=str(source), timezone=NEW_YORK
    )
    fleet = Fleet(settings, tmp_path, clock_file, "before")
    fleets.append(fleet)
    fleet.settle(THURSDAY_5PM)
    assert batches_of(system) == [] and fleet.fired() == 0  # not due yet

    # At each due time all three look at once: exactly one of them fires it.
    for fired, due in enumerate(
        (datetime(2026, 12, 3, 23, 0, 5, tzinfo=UTC), datetime(2026, 12, 4, 23, 0, 5, tzinfo=UTC)), start=1
    ):
        set_clock(due)
        fleet.settle(due)
        assert len(batches_of(system)) == fired == fleet.fired()
    assert [b.idempotency_key for b in batches_of(system)] == [
        f"schedule:{schedule.id}:2026-12-03T23:00:00+00:00",
        f"schedule:{schedule.id}:2026-12-04T23:00:00+00:00",
    ]
    assert fleet.stop() == [0, 0, 0]  # SIGTERM stops each process cleanly

    # Everything was down from Friday night to Thursday morning: Monday's, Tuesday's and
    # Wednesday's 18:00 were missed. Three processes come back: one firing, for Wednesday's.
    back = datetime(2026, 12, 10, 15, 0, tzinfo=UTC)
    set_clock(back)
    fleet = Fleet(settings, tmp_path, clock_file, "after")
    fleets.append(fleet)
    fleet.settle(back)
    found = batches_of(system)
    assert len(found) == 3 and fleet.fired() == 1
    assert found[-1].idempotency_key == f"schedule:{schedule.id}:2026-12-09T23:00:00+00:00"
    assert found[-1].created == 3 and found[-1].schedule_id == schedule.id
    with session_scope(system.engine, readonly=True) as session:
        row = session.get(Schedule, schedule.id)
        assert row is not None and row.lease_owner is None
        assert row.next_fire_at is not None and row.next_fire_at.replace(tzinfo=UTC) == datetime(
            2026, 12, 10, 23, 0, tzinfo=UTC
        )
    assert fleet.stop() == [0, 0, 0]


def test_a_sigterm_while_the_loop_holds_its_stop_event_still_stops_the_process(
    settings: Settings, tmp_path: Path, fleets: list[Fleet]
) -> None:
    """The hang that once kept a firing process alive after SIGTERM (the test above, one run in
    four), made certain: the loop sends its process SIGTERM from inside its stop Event's lock,
    where a SIGTERM handler that sets that Event (the firing process's before) waits forever."""
    clock_file = tmp_path / "clock"
    clock_file.write_text(THURSDAY_5PM.isoformat(), encoding="utf-8")
    fleet = Fleet(settings, tmp_path, clock_file, "inside", size=1, SIGTERM_INSIDE_WAIT="1")
    fleets.append(fleet)
    assert fleet.exit_codes() == [0]
    assert fleet.rounds() == [1]  # it stopped after the round whose wait sent the signal
