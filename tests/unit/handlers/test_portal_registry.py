"""Extending sopwright fails fast: what a SOP names, every portal has (no browser).

A new SOP step, task type or portal that is missing a piece fails here, in the fast loop, instead
of as an UnknownStep (a failed task) or an unreconcilable crash in production.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from handlers.portals import portal_handlers
from sops.fields import ACTING_PROVIDER, type_fields
from sops.loader import SopLibrary
from sops.schema import Outcomes
from sops.types import Outcome, TaskType

LIBRARY = SopLibrary.builtin()
ROOT = Path(__file__).resolve().parents[3]


def test_every_step_a_sop_names_exists_in_the_portals_scripts(payer: str) -> None:
    portal = portal_handlers()[payer]
    missing = sorted(
        f"{task_type}: {step.do}"
        for task_type in TaskType
        for step in LIBRARY.get(task_type).steps
        if step.do not in portal.scripts
    )
    assert missing == [], f"the {portal.name} portal has no step script for {', '.join(missing)}"


def test_every_sop_with_an_irreversible_step_has_a_reconciler_on_the_portal(payer: str) -> None:
    portal = portal_handlers()[payer]
    irreversible = [t for t in TaskType if any(step.irreversible for step in LIBRARY.get(t).steps)]
    assert irreversible, "no SOP has a point of no return: this test would prove nothing"
    missing = [t for t in irreversible if t not in portal.reconcilers]
    assert missing == [], f"the {portal.name} portal cannot look up a submission of {missing}"


def test_the_portal_keys_are_the_handler_keys(payer: str) -> None:
    assert portal_handlers()[payer].key == payer


@pytest.mark.parametrize("task_type", list(TaskType))
def test_the_acting_provider_is_a_field_of_its_task_type(task_type: TaskType) -> None:
    assert ACTING_PROVIDER[task_type] in type_fields(task_type)


def test_a_sop_has_one_note_for_each_outcome() -> None:
    assert set(Outcomes.model_fields) == {outcome.value for outcome in Outcome}


def test_the_import_contract_keeps_every_portal_package_independent() -> None:
    packages = {
        f"handlers.portals.{path.parent.name}"
        for path in (ROOT / "handlers" / "portals").glob("*/__init__.py")
        if path.parent.name != "common"
    }
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    [independent] = [c for c in contracts if c["type"] == "independence"]
    assert set(independent["modules"]) == packages
