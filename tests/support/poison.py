"""A task row as the probe left one before JSON limits existed: fields 300 levels deep, lists
mixing records and numbers, an odd problem entry (issue 15, item 2)."""

from __future__ import annotations

import json
from typing import Any

from runner.core.db import session_scope
from runner.core.system import System
from runner.core.tables import Account, Task

NESTED: Any = json.loads("[" * 300 + "]" * 300)


def poison_row(system: System, account: Account, *, status: str = "waiting_for_input") -> Task:
    """Create an ordinary task, then store odd values in it, as a row written before the fix."""
    task = system.tasks.create(account, type="check_eligibility", data="member: 1", actor="test")
    odd = {"member_id": NESTED, "comment": {"deep": NESTED}, "foo": [{"a": 1}, 5], "bar": [5, {"a": 1}]}
    with session_scope(system.engine) as session:
        row = session.get(Task, task.id)
        assert row is not None
        row.status = status
        row.fields = dict(odd)
        row.raw_inputs = dict(odd)
        row.result = {"decision": NESTED, "lines": [{"a": 1}, 5]}
        row.problems = [
            {"field": "member_id", "message": "member ID was given more than once with different values"},
            {"field": "foo.1", "message": "not a record"},
            {"message": "a problem without a field"},
        ]
        session.add(row)
    return task
