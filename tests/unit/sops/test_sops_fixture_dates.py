"""The sample inputs stay valid whatever day the suite runs (their dates move with today)."""

from __future__ import annotations

from datetime import date

import pytest

from sops.dataformat import parse_data
from sops.inputs import check_inputs
from sops.types import TaskType
from tests.support.task_fixtures import task_fixture


@pytest.mark.parametrize("today", [date(2026, 11, 30), date(2027, 12, 31), date(2029, 2, 28)])
@pytest.mark.parametrize("task_type", list(TaskType))
def test_every_fixture_is_complete_on_any_day(task_type: TaskType, today: date) -> None:
    checked = check_inputs(task_type, parse_data(task_fixture(task_type.value, today=today)), today=today)
    assert checked.ok, checked.note


def test_dates_move_by_the_days_since_the_fixture_was_written() -> None:
    text = task_fixture("submit_claim", today=date(2026, 12, 30))
    assert "service date: 2026-12-02" in text  # written 2026-11-02 as of 2026-11-30: 30 days later
