"""Constants and helpers shared by the sops unit tests."""

from __future__ import annotations

from datetime import date

from sops.types import TaskType
from tests.support.task_fixtures import task_fixture

TODAY = date(2026, 11, 30)  # the fixtures' dates are valid on this day
SERENE_EXAMPLE = "member_id: 300059049\npatient: Jane Doe\nDOB: 1990-01-15\nservice_date: 2025-03-20"


def fixture_text(task_type: TaskType) -> str:
    return task_fixture(task_type.value, today=TODAY)
