"""Which SOP runs a task: the built-in library, or the account's own override (a DB row).

Overrides are validated when installed (`sopwright sops install ACCOUNT FILE`), so a stored
override always loads. A task pins the SOP it will run when it is created (a copy, with its
version and source, builtin/account): the worker runs that copy, whatever is installed or
upgraded later, so `sop_version` names what ran and matches the task's instructions.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

import sqlalchemy as sa
from pydantic import ValidationError
from sqlmodel import Session, col, select

from runner.core.db import session_scope
from runner.core.errors import NotFound
from runner.core.tables import SopOverride, Task
from sops.loader import SopLibrary, load_sop_text
from sops.schema import Sop
from sops.types import TaskType

log = logging.getLogger(__name__)


def pin(sop: Sop) -> str:
    """A task's own copy of its SOP (JSON), stored when the task is created."""
    return sop.model_dump_json()


@functools.lru_cache(maxsize=256)
def _pinned(copy: str) -> Sop:
    return Sop.model_validate_json(copy)


@functools.lru_cache(maxsize=256)
def _override(source_text: str, task_type: TaskType) -> Sop:
    """An account's override, parsed once per distinct text (SOP models are frozen)."""
    return load_sop_text(source_text, source=f"account override for {task_type.value}")


# An account's override text for one type, built once (`SopBook.resolve`: every create asks).
_OVERRIDE_SOURCE = sa.select(col(SopOverride.source)).where(
    col(SopOverride.account_id) == sa.bindparam("account_id"), col(SopOverride.type) == sa.bindparam("type")
)


@dataclass(frozen=True)
class ResolvedSop:
    sop: Sop
    source: str  # "builtin" or "account"


class SopBook:
    def __init__(self, engine: sa.Engine, library: SopLibrary) -> None:
        self._engine = engine
        self._library = library

    @property
    def library(self) -> SopLibrary:
        return self._library

    def resolve(self, account_id: str, task_type: TaskType, *, session: Session | None = None) -> ResolvedSop:
        """The SOP for the account's tasks of this type; inside the caller's transaction if given."""
        if session is None:
            with session_scope(self._engine, readonly=True) as own:
                return self.resolve(account_id, task_type, session=own)
        # The override's text only, as a Core query on the session's connection: every create
        # asks, and almost every answer is "none" (no ORM row to build for it).
        source = (
            session.connection()
            .execute(_OVERRIDE_SOURCE, {"account_id": account_id, "type": task_type})
            .scalar()
        )
        if source is None:
            return ResolvedSop(self._library.get(task_type), "builtin")
        return ResolvedSop(_override(source, task_type), "account")

    def for_task(self, task: Task, *, session: Session | None = None) -> Sop:
        """The SOP `task` runs: the copy pinned when it was created. A task created before SOPs
        were pinned, or whose copy an upgraded sopwright cannot read, runs the account's current
        SOP (the attempt then records that version)."""
        if task.pinned_sop:
            try:
                return _pinned(task.pinned_sop)
            except ValidationError:
                log.warning(
                    "the task's pinned SOP cannot be read; it runs the current one",
                    extra={"task_id": task.id},
                )
        return self.resolve(task.account_id, TaskType(task.type), session=session).sop

    def install(self, account_id: str, source_text: str, *, source: str) -> Sop:
        """Validate and store an account's SOP override (replacing any earlier one for that type)."""
        sop = load_sop_text(source_text, source=source)
        with session_scope(self._engine) as session:
            row = session.exec(
                select(SopOverride).where(SopOverride.account_id == account_id, SopOverride.type == sop.type)
            ).first()
            if row is None:
                row = SopOverride(account_id=account_id, type=sop.type, version=sop.version, source="")
            row.version = sop.version
            row.source = source_text
            session.add(row)
        return sop

    def remove(self, account_id: str, task_type: TaskType) -> None:
        with session_scope(self._engine) as session:
            row = session.exec(
                select(SopOverride).where(SopOverride.account_id == account_id, SopOverride.type == task_type)
            ).first()
            if row is None:
                raise NotFound(f"The account has no override for {task_type.value}.")
            session.delete(row)
