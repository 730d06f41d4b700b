"""Task services: create, read, list, supply input, review, cancel. Routes and CLI call these."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from runner.core import cursors, intake, refs, transitions
from runner.core.credentials import PortalCredentials
from runner.core.db import session_scope
from runner.core.errors import IdempotencyConflict, InvalidRequest, InvalidTransition, NotFound
from runner.core.files import FileStore, Upload
from runner.core.groupcommit import GroupCommit
from runner.core.queue import drop_lease
from runner.core.sopbook import SopBook, pin
from runner.core.states import FileSource, Priority, TaskStatus
from runner.core.tables import Account, Task, TaskEvent, TaskFile, utcnow
from runner.core.tables.base import new_row
from runner.core.transitions import check_transition, move, record
from sops.dataformat import merge_raw
from sops.inputs import TIMELY_FILING_KEY, InputCheck
from sops.render import render_task
from sops.types import TaskType

_T = TypeVar("_T")

# The account's next task number (`Tasks._next_number`), built once: every create runs it.
_BUMP_COUNTER = (
    sa.update(Account)
    .where(col(Account.id) == sa.bindparam("account_id"))
    .values(task_counter=col(Account.task_counter) + 1)
    .returning(col(Account.task_counter))
)

# The task an account created with an Idempotency-Key (`_idempotent`), built once.
_KEYED_TASK = sa.select(col(Task.id)).where(
    col(Task.account_id) == sa.bindparam("account_id"), col(Task.idempotency_key) == sa.bindparam("key")
)


@dataclass(frozen=True)
class TaskFilter:
    status: TaskStatus | None = None
    type: TaskType | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    payer: str | None = None
    task_number: int | None = None
    batch_id: int | None = None
    parent_task_id: int | None = None  # the parent's public id: its follow-ups


@dataclass(frozen=True)
class FollowUpOf:
    """What a follow-up task (DESIGN.md §9) is created with: the task it follows up, its schedule
    (`runner.core.followups.Schedule` as JSON) and its notes while it is pending."""

    parent: Task
    schedule: dict[str, Any]
    note: str


@dataclass(frozen=True)
class Page:
    tasks: list[Task]
    files: dict[str, list[TaskFile]]
    next_cursor: str | None


class Tasks:
    def __init__(
        self,
        engine: sa.Engine,
        files: FileStore,
        sops: SopBook,
        credentials: PortalCredentials,
        *,
        max_data_chars: int,
        timely_filing_days: int = 365,
        clock: Callable[[], datetime] = utcnow,
        group: GroupCommit | None = None,
    ) -> None:
        """`group`: creates share their write transactions through it (SQLite; see `groupcommit`)."""
        self._engine = engine
        self._group = group
        self._files = files
        self._sops = sops
        self._credentials = credentials
        self._max_data_chars = max_data_chars
        self._timely_filing_days = timely_filing_days
        self._clock = clock

    # -- create ---------------------------------------------------------------------------

    def create(
        self,
        account: Account,
        *,
        type: str | None,
        data: str | None,
        uploads: Sequence[Upload] = (),
        idempotency_key: str | None = None,
        priority: str | None = None,
        actor: str,
    ) -> Task:
        """Check everything first, then store the task, its files and its first event at once."""
        task, _files = self.create_with_files(
            account,
            type=type,
            data=data,
            uploads=uploads,
            idempotency_key=idempotency_key,
            priority=priority,
            actor=actor,
        )
        return task

    def create_with_files(
        self,
        account: Account,
        *,
        type: str | None,
        data: str | None,
        uploads: Sequence[Upload] = (),
        idempotency_key: str | None = None,
        priority: str | None = None,
        actor: str,
    ) -> tuple[Task, list[TaskFile]]:
        """`create`, with the task's file rows: all that `POST /tasks` answers, from one transaction
        (the Idempotency-Key, the payer's login and the SOP override are looked up inside it;
        nothing is read back afterwards)."""
        task_type = intake.task_type_of(type)
        lane = intake.priority_of(priority, default=Priority.INTERACTIVE)
        data = intake.check_data_text(data, self._max_data_chars)
        if idempotency_key is not None and not (0 < len(idempotency_key) <= 255):
            raise InvalidRequest("The Idempotency-Key header must be 1-255 characters.")
        fingerprint = intake.request_hash(task_type, data, uploads)
        now = self._clock()
        checked = intake.check(
            task_type, intake.read_inputs(data, uploads), self._defaults(account), now.date()
        )
        for upload in uploads:
            self._files.put(upload)

        def store(session: Session) -> tuple[Task, list[TaskFile]]:
            # The payer's login is looked up in the task's own transaction (one fewer per create).
            # Safe to run twice (a group commit runs a rolled-back group's writes again alone).
            # The key is looked up in the write transaction too: a read transaction of its own
            # before it cost a keyed create 0.9 ms of CPU more with 16 at once on SQLite (2.07 ->
            # 1.24 ms), 0.5 on PostgreSQL (3.74 -> 3.25; bench/create_cpu.py --idempotency-keys).
            # Two creates of one key at once on PostgreSQL both find nothing; the unique index
            # refuses the second (below).
            if idempotency_key:
                existing = _idempotent(session, account.id, idempotency_key, fingerprint)
                if existing is not None:
                    return existing
            task = self.insert(
                session,
                account,
                task_type,
                self._with_login(account.id, checked, session=session),
                data=data,
                priority=lane,
                run_after=now,
                actor=actor,
                now=now,
                idempotency_key=idempotency_key,
                request_hash=fingerprint,
            )
            files = [_file_row(task, upload) for upload in uploads]
            session.add_all(files)
            return task, files

        try:
            return self._write(store)
        except IntegrityError:
            if idempotency_key:
                # A concurrent request with the same key won the insert: answer as a retry.
                existing = self._find_idempotent(account.id, idempotency_key, fingerprint)
                if existing is not None:
                    return existing
            raise

    def _write(self, work: Callable[[Session], _T]) -> _T:
        """`work` in a write transaction: its own, or one shared with the creates beside it."""
        if self._group is not None:
            return self._group.run(work)
        with session_scope(self._engine) as session:
            return work(session)

    def insert(
        self,
        session: Session,
        account: Account,
        task_type: TaskType,
        checked: intake.Checked,
        *,
        data: str | None,
        priority: Priority,
        run_after: datetime,
        actor: str,
        now: datetime,
        batch_id: int | None = None,
        batch_row: int | None = None,
        idempotency_key: str | None = None,
        request_hash: str | None = None,
        follow_up: FollowUpOf | None = None,
    ) -> Task:
        """Store one checked task (pending, or waiting_for_input naming its problems) and its first
        events in the caller's transaction, its public id drawn. `POST /tasks`, batches and
        follow-ups all create tasks here: this builds the row, `transitions.insert` writes it."""
        resolved = _once_per_transaction(
            session,
            ("sop", account.id, task_type),
            lambda: self._sops.resolve(account.id, task_type, session=session),
        )
        number = self._next_number(session, account.id)
        rendered = render_task(
            resolved.sop, task_number=number, fields=checked.check.fields, portal_name=checked.portal_name
        )
        ok = checked.check.ok
        row = new_row(
            Task,
            account_id=account.id,
            account_public_id=account.public_id,
            task_number=number,
            type=task_type,
            status=TaskStatus.PENDING if ok else TaskStatus.WAITING_FOR_INPUT,
            priority=priority,
            batch_id=batch_id,
            batch_row=batch_row,
            parent_task_id=follow_up.parent.id if follow_up else None,
            parent_public_id=follow_up.parent.public_id if follow_up else None,
            follow_up=follow_up.schedule if follow_up else None,
            handler=rendered.handler,
            title=rendered.title,
            instructions=rendered.instructions,
            data=data,
            raw_inputs=checked.raw,
            fields=checked.check.fields,
            problems=_problems(checked.check),
            notes=(follow_up.note if follow_up else None) if ok else checked.check.note,
            payer=checked.payer,
            sop_version=resolved.sop.version,
            sop_source=resolved.source,
            pinned_sop=pin(resolved.sop),
            idempotency_key=idempotency_key,
            request_hash=request_hash,
            run_after=run_after,
            created_at=now,
            updated_at=now,
        )
        return transitions.insert(session, row, actor=actor, now=now)

    def check(
        self, account: Account, task_type: TaskType, raw: dict[str, Any], *, login_required: bool = False
    ) -> intake.Checked:
        """Check parsed inputs against the task type, with the account's defaults (no storing),
        and name the portal of the payer's login for the instructions (`login_required`: a payer
        without a login is a problem, as at create)."""
        checked = intake.check(task_type, raw, self._defaults(account), self._clock().date())
        return self._with_login(account.id, checked, required=login_required)

    def require_login(self, account_id: str, checked: intake.Checked) -> intake.Checked:
        """`checked` (from `check`) with a payer that has no portal login made a problem, as
        `POST /tasks` makes it at create: the task waits for input naming the missing login."""
        if checked.portal_name is not None:
            return checked  # `check` found the login
        return self._with_login(account_id, checked)

    def _with_login(
        self,
        account_id: str,
        checked: intake.Checked,
        *,
        required: bool = True,
        session: Session | None = None,
    ) -> intake.Checked:
        if session is None:
            route = self._credentials.route(account_id, checked.payer)
        else:
            route = _once_per_transaction(
                session,
                ("login", account_id, checked.payer),
                lambda: self._credentials.route(account_id, checked.payer, session=session),
            )
        return intake.with_login(checked, route, required=required)

    def _defaults(self, account: Account) -> dict[str, Any]:
        """The account's defaults, over the installation's (the timely-filing window)."""
        return {TIMELY_FILING_KEY: self._timely_filing_days, **account.defaults}

    def _find_idempotent(
        self, account_id: str, key: str, fingerprint: str
    ) -> tuple[Task, list[TaskFile]] | None:
        with session_scope(self._engine, readonly=True) as session:
            return _idempotent(session, account_id, key, fingerprint)

    @staticmethod
    def _next_number(session: Session, account_id: str) -> int:
        # One UPDATE ... RETURNING in the task's own transaction: the row lock (PostgreSQL) or
        # the immediate write lock (SQLite) serialises creates, and a rollback returns the number.
        # On the session's connection: a Core statement, not an ORM-enabled UPDATE (no identity-map
        # synchronisation to do: no Account of this session is touched), a fifth of a create's CPU.
        number = session.connection().execute(_BUMP_COUNTER, {"account_id": account_id}).scalar_one()
        return int(number)

    def _apply_check(
        self, session: Session, task: Task, checked: intake.Checked, *, actor: str, action: str
    ) -> None:
        task.raw_inputs = checked.raw
        task.fields = checked.check.fields
        task.payer = checked.payer
        if checked.check.ok:
            task.problems = []
            task.notes = None
            if task.status is not TaskStatus.PENDING:
                move(
                    session, task, TaskStatus.PENDING, actor=actor, action=action, message="Inputs complete."
                )
        else:
            task.problems = _problems(checked.check)
            task.notes = checked.check.note
            move(session, task, TaskStatus.WAITING_FOR_INPUT, actor=actor, action=action, message=task.notes)
        session.add(task)

    # -- read -----------------------------------------------------------------------------

    def get(self, account_id: str, task_id: str | int) -> tuple[Task, list[TaskFile]]:
        with session_scope(self._engine, readonly=True) as session:
            task = _owned(session, account_id, task_id)
            files = list(session.exec(select(TaskFile).where(TaskFile.task_id == task.id)).all())
        return task, files

    def search(self, account_id: str, filters: TaskFilter, *, limit: int, cursor: str | None) -> Page:
        statement = select(Task).where(Task.account_id == account_id)
        if filters.status is not None:
            statement = statement.where(Task.status == filters.status)
        if filters.type is not None:
            statement = statement.where(Task.type == filters.type)
        if filters.created_after is not None:
            statement = statement.where(col(Task.created_at) > filters.created_after.astimezone(UTC))
        if filters.created_before is not None:
            statement = statement.where(col(Task.created_at) < filters.created_before.astimezone(UTC))
        if filters.payer is not None:
            statement = statement.where(Task.payer == filters.payer)
        if filters.task_number is not None:
            statement = statement.where(Task.task_number == filters.task_number)
        if filters.batch_id is not None:
            statement = statement.where(col(Task.batch_id) == filters.batch_id)
        if filters.parent_task_id is not None:
            statement = statement.where(col(Task.parent_public_id) == filters.parent_task_id)
        statement = cursors.newest_first(
            statement, created=col(Task.created_at), key=col(Task.id), cursor=cursor, limit=limit
        )
        with session_scope(self._engine, readonly=True) as session:
            page, next_cursor = cursors.split(list(session.exec(statement).all()), limit)
            files: dict[str, list[TaskFile]] = {t.id: [] for t in page}
            if page:
                for f in session.exec(select(TaskFile).where(col(TaskFile.task_id).in_(list(files)))).all():
                    files[f.task_id].append(f)
        return Page(page, files, next_cursor)

    def events(self, account_id: str, task_id: str | int) -> list[TaskEvent]:
        """The task's timeline, oldest first: who did what and when, and the status it caused."""
        with session_scope(self._engine, readonly=True) as session:
            task = _owned(session, account_id, task_id)
            statement = select(TaskEvent).where(TaskEvent.task_id == task.id)
            return list(session.exec(statement.order_by(col(TaskEvent.at), col(TaskEvent.id))).all())

    def counts(self, account_id: str) -> dict[TaskStatus, int]:
        """How many of the account's tasks are in each status (every status, zeros included)."""
        statement = (
            select(Task.status, sa.func.count()).where(Task.account_id == account_id).group_by(Task.status)
        )
        with session_scope(self._engine, readonly=True) as session:
            found = {status: int(n) for status, n in session.exec(statement).all()}
        return {status: found.get(status, 0) for status in TaskStatus}

    def payers(self, account_id: str) -> list[str]:
        """The payers the account's tasks name (for filters)."""
        statement = select(Task.payer).where(Task.account_id == account_id, col(Task.payer).is_not(None))
        with session_scope(self._engine, readonly=True) as session:
            return sorted({p for p in session.exec(statement.distinct()).all() if p})

    def file(self, account_id: str, task_id: str | int, file_id: str) -> tuple[TaskFile, bytes]:
        with session_scope(self._engine, readonly=True) as session:
            task = _owned(session, account_id, task_id)
            row = session.get(TaskFile, file_id)
        if row is None or row.task_id != task.id:
            raise NotFound("No such file on this task.", file_id=file_id)
        return row, self._files.read(row.sha256)

    # -- actions --------------------------------------------------------------------------

    def supply_input(
        self, account: Account, task_id: str | int, *, data: str | None, uploads: Sequence[Upload], actor: str
    ) -> Task:
        """Merge more or corrected data into a waiting task and check again. With nothing sent, a
        task whose data is complete is checked again as it is (it waited on a portal login)."""
        data = intake.check_data_text(data, self._max_data_chars)
        new_raw = intake.read_inputs(data, uploads) if (data or uploads) else {}
        for upload in uploads:
            self._files.put(upload)
        with session_scope(self._engine) as session:
            task = _owned(session, account.id, task_id, for_update=True)
            if task.status is not TaskStatus.WAITING_FOR_INPUT:
                raise InvalidTransition(
                    f"Cannot supply input: the task is {task.status}; input is accepted only while "
                    "it is waiting_for_input.",
                    status=task.status,
                    action="supply input",
                )
            merged = merge_raw(task.raw_inputs, new_raw)
            checked = intake.check(task.type, merged, self._defaults(account), self._clock().date())
            if not new_raw and not uploads and not checked.check.ok:
                raise InvalidRequest("Send `data` with the missing or corrected fields (or files).")
            checked = self._with_login(account.id, checked)
            if checked.check.ok:  # the payer may have changed, or its login been added
                task.instructions = render_task(
                    self._sops.resolve(account.id, task.type, session=session).sop,
                    task_number=task.task_number,
                    fields=checked.check.fields,
                    portal_name=checked.portal_name,
                ).instructions
            if data and data.strip():
                task.data = f"{task.data}\n{data}" if task.data else data
            message = "Input supplied." if new_raw or uploads else "Checked again."
            record(session, task, actor=actor, kind="input", message=message)
            self._apply_check(session, task, checked, actor=actor, action="supply input")
            task.run_after = self._clock()
            for upload in uploads:
                session.add(_file_row(task, upload))
        return task

    def review(
        self, account_id: str, task_id: str | int, *, approve: bool, notes: str | None, actor: str
    ) -> Task:
        with session_scope(self._engine) as session:
            task = _owned(session, account_id, task_id, for_update=True)
            if task.status is not TaskStatus.PENDING_REVIEW:
                raise InvalidTransition(
                    f"Cannot review: the task is {task.status}; "
                    "only a task in pending_review can be reviewed.",
                    status=task.status,
                    action="review",
                )
            if approve:
                if task.review_step:
                    task.approved_gates = [*task.approved_gates, task.review_step]
                task.review_step = None
                task.run_after = self._clock()
                move(session, task, TaskStatus.PENDING, actor=actor, action="approve", message=notes)
            else:
                task.notes = f"Rejected in review: {notes}" if notes else "Rejected in review."
                move(session, task, TaskStatus.FAILED, actor=actor, action="reject", message=notes)
        return task

    def cancel(self, account_id: str, task_id: str | int, *, reason: str | None, actor: str) -> Task:
        with session_scope(self._engine) as session:
            task = _owned(session, account_id, task_id, for_update=True)
            check_transition(task.status, TaskStatus.FAILED, action="cancel")
            task.notes = f"Cancelled: {reason}" if reason else "Cancelled at the client's request."
            drop_lease(task)
            move(session, task, TaskStatus.FAILED, actor=actor, action="cancel", message=reason)
        return task

    def remark(self, account_id: str, task_id: str | int, *, actor: str, kind: str, message: str) -> None:
        """A timeline line for an action about the task that is not a status change (a redelivery)."""
        with session_scope(self._engine) as session:
            record(session, _owned(session, account_id, task_id), actor=actor, kind=kind, message=message)

    def retry(self, account: Account, task_id: str | int, *, actor: str) -> Task:
        """A new task with the data and files of a failed one; both timelines link the other.

        A final task never moves again, so a retry is a new task (with its own number).
        """
        original, files = self.get(account.id, task_id)
        if original.status is not TaskStatus.FAILED:
            raise InvalidTransition(
                f"Cannot retry: the task is {original.status}; only a failed task can be retried.",
                status=original.status,
                action="retry",
            )
        # The client's documents only: what the portal gave the failed task is not sent again.
        uploads = [
            Upload(f.filename, f.content_type, self._files.read(f.sha256))
            for f in files
            if f.source is FileSource.UPLOAD
        ]
        task = self.create(
            account,
            type=original.type,
            data=original.data,
            uploads=uploads,
            priority=original.priority,
            actor=actor,
        )
        with session_scope(self._engine) as session:
            old, new = original.task_number, task.task_number
            record(session, task, actor=actor, kind="retry_of", message=f"Retry of task #{old}.")
            record(session, original, actor=actor, kind="retried_as", message=f"Retried as task #{new}.")
        return task


def _owned(session: Session, account_id: str, task_id: str | int, *, for_update: bool = False) -> Task:
    """The task if it belongs to the account (named by its integer id or its UUID); another
    account's task is simply not found."""
    statement = select(Task).where(
        refs.matching(Task.public_id, Task.id, task_id), Task.account_id == account_id
    )
    if for_update:
        statement = statement.with_for_update()
    task = session.exec(statement).first()
    if task is None:
        raise NotFound("No task with this id.", task_id=task_id)
    return task


def _idempotent(
    session: Session, account_id: str, key: str, fingerprint: str
) -> tuple[Task, list[TaskFile]] | None:
    """The task created earlier with this Idempotency-Key and its files; IdempotencyConflict if it
    was created from a different request. Most keys are new: a Core look at the index first, the
    task itself read only when there is one."""
    found = session.connection().execute(_KEYED_TASK, {"account_id": account_id, "key": key}).first()
    if found is None:
        return None
    task = session.get(Task, found[0])
    if task is None:
        return None
    if task.request_hash != fingerprint:
        raise IdempotencyConflict(
            "This Idempotency-Key was already used with a different request. Use a new key "
            "for a new task, or resend exactly the same request to get the original task.",
            task_id=task.public_id,  # the id the client knows
        )
    files = list(session.exec(select(TaskFile).where(TaskFile.task_id == task.id)).all())
    return task, files


def _once_per_transaction(session: Session, key: tuple[Any, ...], lookup: Callable[[], _T]) -> _T:
    """A lookup that nothing in a create's transaction changes (the payer's login, the SOP
    override), made once per transaction: the creates of a group commit, or a batch's tasks,
    share the answer. The session lives for one transaction, so the answer does too."""
    found: dict[tuple[Any, ...], Any] = session.info.setdefault("tasks.lookups", {})
    if key not in found:
        found[key] = lookup()
    return found[key]  # type: ignore[no-any-return]


def _problems(check: InputCheck) -> list[dict[str, str]]:
    return [{"field": p.field, "message": p.message} for p in check.problems]


def _file_row(task: Task, upload: Upload) -> TaskFile:
    return TaskFile(
        task_id=task.id,
        account_id=task.account_id,
        filename=upload.filename,
        content_type=upload.content_type,
        size=len(upload.content),
        sha256=upload.sha256,
        source=FileSource.UPLOAD,
    )
