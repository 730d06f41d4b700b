"""An account's own SOP: validated when installed, used for its new tasks only, removable."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.core.errors import NotFound
from runner.core.system import System
from sops.errors import SopError
from sops.types import TaskType

LIBRARY = Path(__file__).resolve().parents[3] / "sops" / "library"
DATA = "member_id: 300059049\npatient: Jane Doe\nDOB: 1990-01-15\npayer: acme"


def test_override_is_used_for_that_account_only(system: System) -> None:
    mine = system.accounts.create("Mine").account
    theirs = system.accounts.create("Theirs").account
    source = (LIBRARY / "check_eligibility.yaml").read_text()
    source = source.replace("version: 1", "version: 7").replace(
        'title: "Check eligibility #{{ task.task_number }}"',
        'title: "Verify coverage #{{ task.task_number }}"',
    )
    system.sops.install(mine.id, source, source="mine.yaml")
    task = system.tasks.create(mine, type="check_eligibility", data=DATA, actor="test")
    assert (task.handler, task.title, task.sop_version, task.sop_source) == (
        "check_eligibility_7",
        "Verify coverage #1",
        7,
        "account",
    )
    other = system.tasks.create(theirs, type="check_eligibility", data=DATA, actor="test")
    assert (other.handler, other.sop_source) == ("check_eligibility_1", "builtin")
    system.sops.remove(mine.id, TaskType.CHECK_ELIGIBILITY)
    again = system.tasks.create(mine, type="check_eligibility", data=DATA, actor="test")
    assert again.handler == "check_eligibility_1"
    with pytest.raises(NotFound):
        system.sops.remove(mine.id, TaskType.CHECK_ELIGIBILITY)


def test_an_invalid_override_is_refused_and_nothing_changes(system: System) -> None:
    mine = system.accounts.create("Mine").account
    with pytest.raises(SopError, match=r"bad.yaml"):
        system.sops.install(mine.id, "type: check_eligibility\nversion: 2\nsteps: []\n", source="bad.yaml")
    task = system.tasks.create(mine, type="check_eligibility", data=DATA, actor="test")
    assert task.sop_source == "builtin"
