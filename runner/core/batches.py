"""Batches: many tasks from one file, checked row by row, created together, spread over time.

A batch is a parent row, not a second queue (DESIGN.md §9): its tasks are ordinary tasks with
`batch_id` and the `batch` lane. Every row is checked with the same validation as `POST /tasks`
before anything is stored. A row whose values are wrong (a bad NPI, a date that is not a date,
an unknown task type) is refused with its row number, field and reason, and creates nothing; a
row that only lacks fields, or whose payer has no portal login, becomes a task waiting for
input, as `POST /tasks` would make it. The
batch row and all its tasks are then written in one transaction: a batch exists whole or not at
all, so a retry with the same Idempotency-Key finds it or creates it, never half of it.

Each task is due when its portal login's rate allows it (`spreading.py`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from runner.core import batchstate, intake
from runner.core.batchfile import BATCH_COLUMNS, BatchFileError, Rows
from runner.core.credentials import PortalCredentials
from runner.core.db import session_scope
from runner.core.errors import IdempotencyConflict, InvalidRequest, NotFound, SopwrightError
from runner.core.refs import MAX_PUBLIC_ID
from runner.core.spreading import Spreader
from runner.core.states import Priority, TaskStatus
from runner.core.tables import Account, Batch, PortalCredential, Task, utcnow
from runner.core.tasks import Tasks
from sops.types import TaskType

RESULT_COLUMNS = (
    "coverage_status",
    "plan_name",
    "group_number",
    "copay",
    "deductible_remaining",
    "claim_number",
    "claim_status",
    "status_category",
    "paid_amount",
    "paid_date",
    "payment_number",
    "adjustment_codes",
    "decision",
    "certification_number",
    "decision_date",
    "tracking_number",
    "reference_number",
    "failure_reason",
)
RESULTS_HEADER = (
    "row",
    "task_id",
    "task_number",
    "type",
    "status",
    "payer",
    "member_id",
    *RESULT_COLUMNS,
    "notes",
)


class BatchView(NamedTuple):
    """What `batch_public` shows: the batch, its tasks by status, its account's integer id."""

    batch: Batch
    counts: dict[TaskStatus, int]
    account_public_id: int


@dataclass(frozen=True)
class _Accepted:
    row: int
    type: TaskType
    priority: Priority
    data: str
    checked: intake.Checked


def fingerprint(type: str | None, priority: str | None, content: bytes) -> str:
    """Tells a retry of a batch request from a different one (Idempotency-Key)."""
    digest = hashlib.sha256(json.dumps([type, priority]).encode())
    digest.update(content)
    return digest.hexdigest()


class Batches:
    def __init__(
        self,
        engine: sa.Engine,
        tasks: Tasks,
        credentials: PortalCredentials,
        *,
        max_data_chars: int,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._engine = engine
        self._tasks = tasks
        self._credentials = credentials
        self._max_data_chars = max_data_chars
        self._clock = clock

    # -- create ---------------------------------------------------------------------------

    def create(
        self,
        account: Account,
        rows: Rows,
        *,
        type: str | None,
        priority: str | None,
        source: str,
        request_hash: str,
        idempotency_key: str | None = None,
        schedule_id: int | None = None,
        actor: str,
        progress: Callable[[int], None] | None = None,
    ) -> Batch:
        """Check every row, then store the batch and its tasks at once. `progress(n)` is called as
        rows are checked (a CLI's progress bar)."""
        batch_type = intake.task_type_of(type) if type else None
        lane = intake.priority_of(priority, default=Priority.BATCH)
        if batch_type is None and rows.columns and "type" not in {c.lower() for c in rows.columns}:
            raise BatchFileError(
                f"No task type: send `type` with the batch or add a `type` column ({intake.VALID_TYPES}).",
                field="type",
            )
        if idempotency_key is not None and not (0 < len(idempotency_key) <= 255):
            raise InvalidRequest("The Idempotency-Key header must be 1-255 characters.")
        if idempotency_key:
            existing = self._find_idempotent(account.id, idempotency_key, request_hash)
            if existing is not None:
                return existing
        accepted: list[_Accepted] = []
        refused: list[dict[str, Any]] = []
        for done, row in enumerate(rows.rows, start=1):
            outcome = self._check_row(
                account, row.number, row.values, row.text, row.problem, batch_type, lane
            )
            if isinstance(outcome, _Accepted):
                accepted.append(outcome)
            else:
                refused.extend(outcome)
            if progress is not None:
                progress(done)
        now = self._clock()
        try:
            with session_scope(self._engine) as session:
                batch = Batch(
                    account_id=account.id,
                    type=batch_type.value if batch_type else None,
                    priority=lane.value,
                    source=source[:300],
                    schedule_id=schedule_id,
                    idempotency_key=idempotency_key,
                    request_hash=request_hash,
                    rows=len(rows.rows),
                    refused=refused,
                    created_at=now,
                )
                session.add(batch)
                session.flush()
                due = Spreader(session, account.id, self._logins(account.id), now)
                for item in accepted:
                    task = self._tasks.insert(
                        session,
                        account,
                        item.type,
                        item.checked,
                        data=item.data,
                        priority=item.priority,
                        run_after=due.next(item.checked.payer, item.priority),
                        actor=actor,
                        now=now,
                        batch_id=batch.id,
                        batch_row=item.row,
                    )
                    batch.created += 1
                    batch.waiting += int(task.status is TaskStatus.WAITING_FOR_INPUT)
                session.add(batch)
                if not accepted:
                    batchstate.finish(session, batch, now)  # nothing to wait for: finished at once
        except IntegrityError:
            if idempotency_key:
                existing = self._find_idempotent(account.id, idempotency_key, request_hash)
                if existing is not None:
                    return existing
            raise
        return batch

    def _check_row(
        self,
        account: Account,
        number: int,
        values: dict[str, Any],
        text: str | None,
        problem: str | None,
        batch_type: TaskType | None,
        lane: Priority,
    ) -> _Accepted | list[dict[str, Any]]:
        """The row ready to store, or why it is refused ({row, field, reason} each)."""

        def refuse(field: str, reason: str) -> list[dict[str, Any]]:
            return [{"row": number, "field": field, "reason": reason}]

        if problem is not None:
            return refuse("", problem)
        own = {key.lower(): value for key, value in values.items() if key.lower() in BATCH_COLUMNS}
        fields = {key: value for key, value in values.items() if key.lower() not in BATCH_COLUMNS}
        try:
            task_type = intake.task_type_of(str(own["type"])) if own.get("type") else batch_type
        except SopwrightError as exc:
            return refuse("type", exc.message)
        if task_type is None:
            return refuse("type", "no task type: fill the row's type or send `type` with the batch")
        try:
            row_lane = intake.priority_of(str(own["priority"]), default=lane) if own.get("priority") else lane
        except SopwrightError as exc:
            return refuse("priority", exc.message)
        try:
            data = text if text is not None else json.dumps(fields, ensure_ascii=False, default=str)
            data = intake.check_data_text(data, self._max_data_chars) or ""
            checked = self._tasks.check(account, task_type, intake.read_inputs(data, ()))
        except SopwrightError as exc:
            return refuse("", exc.message)
        invalid = [p for p in checked.check.problems if not p.missing]
        if invalid:
            return [{"row": number, "field": p.field, "reason": p.message} for p in invalid]
        # A payer with no portal login is no reason to refuse the row: as with `POST /tasks`,
        # the task waits for input naming the missing login (the notes say how to add one).
        checked = self._tasks.require_login(account.id, checked)
        return _Accepted(number, task_type, row_lane, data, checked)

    def _logins(self, account_id: str) -> list[PortalCredential]:
        return [c for c in self._credentials.of_account(account_id) if c.disabled_at is None]

    def _find_idempotent(self, account_id: str, key: str, request_hash: str) -> Batch | None:
        with session_scope(self._engine, readonly=True) as session:
            batch = session.exec(
                select(Batch).where(Batch.account_id == account_id, Batch.idempotency_key == key)
            ).first()
        if batch is None:
            return None
        if batch.request_hash != request_hash:
            raise IdempotencyConflict(
                "This Idempotency-Key was already used with a different batch. Use a new key for a "
                "new batch, or resend exactly the same request to get the original batch.",
                batch_id=batch.id,
            )
        return batch

    # -- read -----------------------------------------------------------------------------

    def get(self, account_id: str | None, batch_id: int) -> BatchView:
        """The batch and its tasks' counts; `account_id` None: any account's (the operator's CLI)."""
        with session_scope(self._engine, readonly=True) as session:
            batch = _owned(session, account_id, batch_id)
            assert batch.id is not None
            return BatchView(
                batch, batchstate.counts(session, batch.id), _public_id(session, batch.account_id)
            )

    def recent(self, account_id: str, *, limit: int = 20, before: int | None = None) -> list[BatchView]:
        """The account's batches, newest first (`before`: an id, for the next page)."""
        statement = select(Batch).where(Batch.account_id == account_id)
        if before is not None and before <= 1:
            return []  # (no id is below 1)
        if before is not None and before <= MAX_PUBLIC_ID:  # (every id is below a larger one)
            statement = statement.where(col(Batch.id) < before)
        with session_scope(self._engine, readonly=True) as session:
            batches = list(session.exec(statement.order_by(col(Batch.id).desc()).limit(limit)).all())
            if not batches:
                return []
            public_id = _public_id(session, account_id)
            return [
                BatchView(b, batchstate.counts(session, b.id), public_id) for b in batches if b.id is not None
            ]

    def results(self, account_id: str | None, batch_id: int) -> Iterator[list[str]]:
        """The results CSV's records: the header, one per task in row order, one per refused row."""
        with session_scope(self._engine, readonly=True) as session:
            batch = _owned(session, account_id, batch_id)
            tasks = list(
                session.exec(
                    select(Task)
                    .where(col(Task.batch_id) == batch_id)
                    .order_by(col(Task.batch_row), col(Task.id))
                )
            )
        yield list(RESULTS_HEADER)
        for task in tasks:
            result = task.result or {}
            yield [
                str(task.batch_row or ""),
                str(task.public_id),  # the `id` the API shows
                str(task.task_number),
                task.type,
                task.status,
                task.payer or "",
                str(task.fields.get("member_id") or ""),
                *(_cell(result.get(name)) for name in RESULT_COLUMNS),
                task.notes or "",
            ]
        for entry in batch.refused:
            field = str(entry.get("field") or "")
            reason = str(entry.get("reason") or "")
            yield [
                str(entry["row"]),
                "",
                "",
                batch.type or "",
                "refused",
                "",
                "",
                *([""] * len(RESULT_COLUMNS)),
                f"{field}: {reason}" if field else reason,
            ]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _public_id(session: Session, account_id: str) -> int:
    """The account's integer id, the `accountId` clients see."""
    public_id = session.exec(select(Account.public_id).where(Account.id == account_id)).one()
    return int(public_id)


def _owned(session: Session, account_id: str | None, batch_id: int) -> Batch:
    if not 0 < batch_id <= MAX_PUBLIC_ID:  # beyond a BIGINT it names nothing (never a 500)
        raise NotFound("No batch with this id.", batch_id=batch_id)
    statement = select(Batch).where(Batch.id == batch_id)
    if account_id is not None:
        statement = statement.where(Batch.account_id == account_id)
    batch = session.exec(statement).first()
    if batch is None:
        raise NotFound("No batch with this id.", batch_id=batch_id)
    return batch
