"""Follow-ups (DESIGN.md §9): a task whose SOP declares `follow_up` creates, in the transaction
that finishes it, a linked task that checks back with the payer; that task then waits `pending`
with a `run_after` (no lease, no browser, no portal session) between checks.

parent ends (not failed), `when` matches, the account has not
turned this type's follow-ups off                                  -> child created, pending until
                                                                      now + first_after (or every);
                                                                      `follow_up_task_id` on the
                                                                      parent's result
child check finds the payer's final word (`until`)                 -> the child's SOP outcome
child check finds it still open, before `for:` is up               -> pending until the next check
                                                                      (min(now + every, deadline)),
                                                                      its attempt given back
child check finds it still open at `for:`                          -> completed_with_issues
                                                                      ("Still pended after 14 days")
errors of a check (portal down, timeout)                           -> as any task's (outcomes.py)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from runner.core import intake, refs
from runner.core.db import session_scope
from runner.core.errors import NoFollowUp, NotFound
from runner.core.public import iso_z
from runner.core.retries import Decision
from runner.core.states import Priority, TaskStatus
from runner.core.tables import Account, Task, utcnow
from runner.core.tasks import FollowUpOf, Tasks
from runner.core.transitions import record
from sops.followups import settled, spoken, standing, still_open_note, wanted
from sops.render import render_follow_up_inputs
from sops.schema import FollowUp, Sop
from sops.types import Outcome

SWITCH_KEY = "follow_up"  # account.defaults["follow_up"] = {"submit_claim": False, ...}
ACTOR = "follow-up"


@dataclass(frozen=True)
class Schedule:
    """A follow-up's schedule, kept on its row (`tasks.follow_up`)."""

    until: str  # sops.schema.FollowUp.until
    every: timedelta
    span: timedelta  # the SOP's `for:`
    deadline: datetime
    checks: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "until": self.until,
            "every_seconds": int(self.every.total_seconds()),
            "for_seconds": int(self.span.total_seconds()),
            "deadline": self.deadline.isoformat(),
            "checks": self.checks,
        }

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> Schedule:
        return cls(
            until=str(value["until"]),
            every=timedelta(seconds=int(value["every_seconds"])),
            span=timedelta(seconds=int(value["for_seconds"])),
            deadline=_utc(datetime.fromisoformat(str(value["deadline"]).replace("Z", "+00:00"))),
            checks=int(value.get("checks", 0)),
        )


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Draft:
    """A follow-up to create when its parent's transaction commits (inputs checked beforehand)."""

    follow: FollowUp
    account: Account
    checked: intake.Checked
    inputs: dict[str, str]


def enabled(account: Account, parent_type: str) -> bool:
    """The account's switch for follow-ups of `parent_type` tasks (on unless turned off)."""
    switches = account.defaults.get(SWITCH_KEY)
    return not (isinstance(switches, dict) and switches.get(parent_type) is False)


def check_back(task: Task, decision: Decision, result: dict[str, Any], now: datetime) -> Decision:
    """A follow-up's check has ended with a business outcome (`decision`): keep it if the payer
    has given its final word; otherwise queue the next check (its attempts are given back) or, at
    the end of `for:`, end it with issues."""
    assert task.follow_up is not None
    schedule = Schedule.from_json(task.follow_up)
    task.follow_up = {**schedule.to_json(), "checks": schedule.checks + 1}
    if settled(schedule.until, result):
        return decision
    if now >= schedule.deadline:
        note = still_open_note(schedule.until, result, schedule.span)
        return Decision(TaskStatus.COMPLETED_WITH_ISSUES, note, result=result or None)
    next_check = min(now + schedule.every, schedule.deadline)
    # The payer not deciding is no failed attempt, and a check that reached the payer clears the
    # errors before it: only errors in a row (a portal down for three checks) fail a follow-up
    # that may run for weeks.
    task.attempts = 0
    note = (
        f"Checked {iso_z(now)}: {standing(schedule.until, result)} so far. Next check {iso_z(next_check)}; "
        f"followed until {iso_z(schedule.deadline)}."
    )
    return Decision(TaskStatus.PENDING, note, result=result or None, run_after=next_check)


class FollowUps:
    """Creating follow-ups with their parent's last write, and asking one to check now."""

    def __init__(self, engine: sa.Engine, tasks: Tasks, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._engine = engine
        self._tasks = tasks
        self._clock = clock

    def draft(self, task: Task, sop: Sop, outcome: Outcome | None, result: Mapping[str, Any]) -> Draft | None:
        """The follow-up `task` gets if it ends with `outcome` and `result`, or None. Reads the
        account and checks the inputs (both outside the parent's final transaction)."""
        follow = sop.follow_up
        if follow is None or outcome is None or task.parent_task_id is not None:
            return None
        if not wanted(follow, outcome, result):
            return None
        with session_scope(self._engine, readonly=True) as session:
            account = session.get(Account, task.account_id)
        if account is None or not enabled(account, task.type):
            return None
        inputs = render_follow_up_inputs(sop, fields=task.fields, result=result)
        checked = self._tasks.check(account, follow.type, dict(inputs), login_required=True)
        return Draft(follow, account, checked, inputs)

    def spawn(
        self, session: Session, parent: Task, draft: Draft, decision: Decision, now: datetime
    ) -> Decision:
        """Insert the follow-up in the parent's final transaction; the parent's result gains
        `follow_up_task_id` (its timeline says so too)."""
        follow = draft.follow
        first = follow.first_after if follow.first_after is not None else follow.every
        child = self._tasks.insert(
            session,
            draft.account,
            follow.type,
            draft.checked,
            data=json.dumps(draft.inputs),
            priority=Priority(parent.priority) if parent.priority in set(Priority) else Priority.INTERACTIVE,
            run_after=now + first,
            actor=f"{ACTOR}:{parent.public_id}",
            now=now,
            follow_up=FollowUpOf(
                parent,
                Schedule(follow.until, follow.every, follow.for_, now + follow.for_).to_json(),
                note=f"First check {iso_z(now + first)}.",  # while pending; a waiting one names its problems
            ),
        )
        message = (
            f"Follow-up task {child.public_id} checks with the payer every {spoken(follow.every)} "
            f"for up to {spoken(follow.for_)}, first at {iso_z(now + first)}."
        )
        record(session, parent, actor=ACTOR, kind="follow_up", message=message)
        result = {**(decision.result or {}), "follow_up_task_id": child.public_id}
        return replace(decision, result=result)

    def check_now(self, account_id: str, task_id: str | int, *, actor: str) -> Task:
        """Make a pending follow-up due now; `task_id` names it or its parent. NotFound, or
        NoFollowUp when there is no follow-up waiting."""
        with session_scope(self._engine) as session:
            task = _owned(session, account_id, task_id)
            child = task
            if task.parent_task_id is None:
                child_id = (task.result or {}).get("follow_up_task_id")
                found = _owned(session, account_id, child_id) if isinstance(child_id, int) else None
                if found is None or found.parent_task_id != task.id:
                    raise NoFollowUp(
                        "This task has no follow-up: only a follow-up task, or a task whose result "
                        "names its follow_up_task_id, can be checked now.",
                        task_id=task.public_id,
                    )
                child = found
            if child.status is not TaskStatus.PENDING or child.follow_up is None:
                raise NoFollowUp(
                    f"Follow-up task {child.public_id} is {child.status.value}: only a pending "
                    "follow-up can be checked now.",
                    task_id=child.public_id,
                    status=child.status.value,
                )
            child.run_after = self._clock()
            child.updated_at = self._clock()
            session.add(child)
            record(session, child, actor=actor, kind="check_now", message="Check asked for now.")
            session.flush()
            session.refresh(child)
        return child


def _owned(session: Session, account_id: str, task_id: str | int) -> Task:
    statement = select(Task).where(
        refs.matching(Task.public_id, Task.id, task_id), Task.account_id == account_id
    )
    task = session.exec(statement.with_for_update()).first()
    if task is None:
        raise NotFound("No task with this id.", task_id=task_id)
    return task
