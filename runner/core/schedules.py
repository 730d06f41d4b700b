"""Schedules: a cron expression (in a time zone) that creates a batch from a CSV on each firing.

Once per due time, however many processes look: a process takes a firing by leasing the
schedule row (`lease_owner`, `lease_expires_at`, under the row lock: `FOR UPDATE SKIP LOCKED` on
PostgreSQL, the immediate write transaction on SQLite), reads the source, creates the batch, and
settles: `next_fire_at` moves to the first cron time after *now*, so an outage that spanned
several due times fires once when the fleet is back (for the latest of them), not once per
missed slot. The batch's
Idempotency-Key is the schedule and its due time: a process that died after creating the batch
and before settling leaves its lease to expire, and the next process's firing finds that batch
instead of creating a second one.

A firing whose source cannot be read (no such file, an HTTP error, a file that is not a valid
CSV) records why on the schedule (`last_error`, shown on the console's Batches page) and writes a
`schedule_failed` webhook; the schedule goes on to its next due time.

Sources (a path or a URL, with `{date}` / `{date+N}`) are read by `sources.py`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from croniter import croniter
from sqlmodel import Session, col, select

from runner.core import batchfile, intake
from runner.core.batches import Batches, fingerprint
from runner.core.db import session_scope
from runner.core.destinations import AddressGuard
from runner.core.errors import IdempotencyConflict, InvalidRequest, NotFound, SopwrightError
from runner.core.sources import read_source, source_for
from runner.core.states import Priority
from runner.core.tables import Account, Batch, Schedule, utcnow
from runner.core.tables.base import as_utc
from runner.core.webhooks import outbox
from runner.core.webhooks.events import WebhookEvent

log = logging.getLogger(__name__)

LEASE_SECONDS = 600.0  # reading a large source and creating 10,000 tasks fits well inside
POLL_SECONDS = 15.0  # the longest a due schedule waits for a process to look


def next_due(cron: str, timezone: str, after: datetime) -> datetime:
    """The first time strictly after `after` that `cron` names, in `timezone`, as UTC."""
    local = after.astimezone(ZoneInfo(timezone))
    due: datetime = croniter(cron, local).get_next(datetime)
    return due.astimezone(ZoneInfo("UTC"))


def latest_due(cron: str, timezone: str, first: datetime, now: datetime) -> datetime:
    """The last due time at or before `now`, from `first` (the schedule's missed due time) on: after
    an outage the one firing is for the most recent slot (tomorrow's file, not last week's)."""
    local = (now + timedelta(seconds=1)).astimezone(ZoneInfo(timezone))
    previous: datetime = croniter(cron, local).get_prev(datetime)
    return max(first, previous.astimezone(ZoneInfo("UTC")))


class Schedules:
    def __init__(
        self,
        engine: sa.Engine,
        batches: Batches,
        guard: AddressGuard,
        *,
        max_bytes: int,
        max_rows: int,
        owner: str = "scheduler",
        clock: Callable[[], datetime] = utcnow,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self._engine = engine
        self._batches = batches
        self._guard = guard
        self._max_bytes = max_bytes
        self._max_rows = max_rows
        self._owner = owner
        self._clock = clock
        self._poll_seconds = poll_seconds  # the longest `run_forever` waits between two looks

    # -- operators' actions ---------------------------------------------------------------

    def add(
        self,
        account: Account,
        *,
        cron: str,
        type: str,
        source: str,
        timezone: str | None = None,
        priority: str | None = None,
    ) -> Schedule:
        task_type = intake.task_type_of(type)
        lane = intake.priority_of(priority, default=Priority.BATCH)
        zone = timezone or str(account.defaults.get("timezone") or "UTC")
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidRequest(
                f"Unknown time zone {zone!r}: use an IANA name such as America/New_York.", field="timezone"
            ) from None
        if not croniter.is_valid(cron) or len(cron.split()) != 5:
            raise InvalidRequest(
                f"Invalid cron expression {cron!r}: use five fields, minute hour day month weekday, "
                'e.g. "0 18 * * 1-5" (18:00 on weekdays).',
                field="cron",
            )
        if "://" in source:
            self._guard.check_url(source)
        elif not source.strip():
            raise InvalidRequest("`--from` needs a path or an https URL.", field="source")
        now = self._clock()
        schedule = Schedule(
            account_id=account.id,
            cron=cron,
            timezone=zone,
            type=task_type.value,
            source=source,
            priority=lane.value,
            next_fire_at=next_due(cron, zone, now),
            created_at=now,
            updated_at=now,
        )
        with session_scope(self._engine) as session:
            session.add(schedule)
        return schedule

    def of_account(self, account_id: str | None = None) -> list[Schedule]:
        """The account's schedules (every account's with None), oldest first."""
        statement = select(Schedule).order_by(col(Schedule.id))
        if account_id is not None:
            statement = statement.where(Schedule.account_id == account_id)
        with session_scope(self._engine, readonly=True) as session:
            return list(session.exec(statement).all())

    def pause(self, schedule_id: int) -> Schedule:
        with session_scope(self._engine) as session:
            schedule = _get(session, schedule_id, for_update=True)
            schedule.paused_at = schedule.paused_at or self._clock()
            schedule.next_fire_at = None
            session.add(schedule)
        return schedule

    def resume(self, schedule_id: int) -> Schedule:
        """Due again from now on: what was missed while paused is not fired."""
        with session_scope(self._engine) as session:
            schedule = _get(session, schedule_id, for_update=True)
            schedule.paused_at = None
            schedule.next_fire_at = next_due(schedule.cron, schedule.timezone, self._clock())
            session.add(schedule)
        return schedule

    def remove(self, schedule_id: int) -> None:
        with session_scope(self._engine) as session:
            session.delete(_get(session, schedule_id, for_update=True))

    def run_now(self, schedule_id: int) -> Batch:
        """Fire once now, outside the cron times (the next due time does not move)."""
        with session_scope(self._engine, readonly=True) as session:
            schedule = _get(session, schedule_id)
        now = self._clock()
        batch = self._create_batch(schedule, now, key=f"schedule:{schedule_id}:now:{now.isoformat()}")
        with session_scope(self._engine) as session:
            row = _get(session, schedule_id, for_update=True)
            row.last_fired_at, row.last_batch_id = now, batch.id
            session.add(row)
        return batch

    # -- firing ---------------------------------------------------------------------------

    def fire_due(self) -> int:
        """Fire every schedule that is due and not taken by another process; returns how many."""
        fired = 0
        while (taken := self._take()) is not None:
            schedule, due = taken
            self._fire(schedule, due)
            fired += 1
        return fired

    def seconds_to_next(self) -> float:
        with session_scope(self._engine, readonly=True) as session:
            soonest = session.exec(
                select(sa.func.min(Schedule.next_fire_at)).where(col(Schedule.next_fire_at).is_not(None))
            ).one()
        due = as_utc(soonest)
        if due is None:
            return self._poll_seconds
        return min(self._poll_seconds, max(0.0, (due - self._clock()).total_seconds()))

    def _take(self) -> tuple[Schedule, datetime] | None:
        """Lease one due schedule (its lease free or expired); None when none is left."""
        now = self._clock()
        with session_scope(self._engine) as session:
            schedule = session.exec(
                select(Schedule)
                .where(col(Schedule.next_fire_at) <= now)
                .where(col(Schedule.paused_at).is_(None))
                .where(sa.or_(col(Schedule.lease_expires_at).is_(None), col(Schedule.lease_expires_at) < now))
                .order_by(col(Schedule.next_fire_at))
                .limit(1)
                .with_for_update(skip_locked=True)
            ).first()
            if schedule is None:
                return None
            schedule.lease_owner = self._owner
            schedule.lease_expires_at = now + timedelta(seconds=LEASE_SECONDS)
            session.add(schedule)
            first = as_utc(schedule.next_fire_at)
            assert first is not None
        return schedule, latest_due(schedule.cron, schedule.timezone, first, now)

    def _fire(self, schedule: Schedule, due: datetime) -> None:
        assert schedule.id is not None
        batch: Batch | None = None
        error: str | None = None
        try:
            batch = self._create_batch(schedule, due, key=f"schedule:{schedule.id}:{due.isoformat()}")
        except SopwrightError as exc:
            error = exc.message
        except Exception as exc:  # an unexpected failure is still this firing's, reported the same way
            log.exception("schedule firing crashed", extra={"schedule_id": schedule.id})
            error = f"the firing failed unexpectedly ({type(exc).__name__})"
        self._settle(schedule.id, due, batch, error)

    def _settle(self, schedule_id: int, due: datetime, batch: Batch | None, error: str | None) -> None:
        now = self._clock()
        with session_scope(self._engine) as session:
            schedule = session.exec(
                select(Schedule).where(col(Schedule.id) == schedule_id).with_for_update()
            ).first()
            if schedule is None or schedule.lease_owner != self._owner:
                return  # removed meanwhile, or our lease ran out and another process took over
            schedule.lease_owner = None
            schedule.lease_expires_at = None
            schedule.last_fired_at = due
            schedule.updated_at = now
            if schedule.paused_at is None:
                schedule.next_fire_at = next_due(schedule.cron, schedule.timezone, max(now, due))
            if batch is not None:
                schedule.last_batch_id = batch.id
                schedule.last_error = None
            if error is not None:
                schedule.last_error = error
                schedule.last_error_at = now
                data = {
                    "schedule_id": schedule.id,
                    "source": schedule.source,
                    "due_at": due.isoformat().replace("+00:00", "Z"),
                    "error": error,
                }
                account = session.get(Account, schedule.account_id)
                if account is not None:
                    outbox.account_event(session, account, WebhookEvent.SCHEDULE_FAILED, data, now)
            session.add(schedule)
        log.info(
            "schedule fired",
            extra={
                "schedule_id": schedule_id,
                "batch_id": batch.id if batch else None,
                "failed": error is not None,
            },
        )

    def _create_batch(self, schedule: Schedule, due: datetime, *, key: str) -> Batch:
        location = source_for(schedule.source, due, schedule.timezone)
        content = read_source(location, self._guard, max_bytes=self._max_bytes)
        rows = batchfile.read_csv(content, max_rows=self._max_rows)
        with session_scope(self._engine, readonly=True) as session:
            account = session.get(Account, schedule.account_id)
            assert account is not None
        try:
            return self._batches.create(
                account,
                rows,
                type=schedule.type,
                priority=schedule.priority,
                source=location,
                request_hash=fingerprint(schedule.type, schedule.priority, content),
                idempotency_key=key,
                schedule_id=schedule.id,
                actor=f"schedule:{schedule.id}",
            )
        except IdempotencyConflict as exc:
            # This due time already made its batch (from the source as it was then): that is the firing.
            with session_scope(self._engine, readonly=True) as session:
                existing = session.get(Batch, exc.details.get("batch_id"))
            if existing is None:
                raise
            return existing

    # -- running beside serve and worker --------------------------------------------------

    def run_forever(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.fire_due()
                wait = self.seconds_to_next()
            except Exception:
                log.warning("schedules: a round failed; trying again", exc_info=True)
                wait = self._poll_seconds
            stop.wait(max(min(0.5, self._poll_seconds), wait))

    @contextmanager
    def in_background(self) -> Iterator[threading.Thread]:
        """Fire due schedules from a daemon thread for the duration of the block."""
        stop = threading.Event()
        thread = threading.Thread(target=self.run_forever, args=(stop,), name="schedules", daemon=True)
        thread.start()
        try:
            yield thread
        finally:
            stop.set()
            thread.join(timeout=30)


def _get(session: Session, schedule_id: int, *, for_update: bool = False) -> Schedule:
    statement = select(Schedule).where(col(Schedule.id) == schedule_id)
    if for_update:
        statement = statement.with_for_update()
    schedule = session.exec(statement).first()
    if schedule is None:
        raise NotFound(f"No schedule {schedule_id}.", schedule_id=schedule_id)
    return schedule
