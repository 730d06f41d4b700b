"""Constants and helpers shared by the sops unit tests."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sops.types import TaskType

TODAY = date(2026, 11, 30)  # the fixtures' dates are valid on this day
TASK_FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "tasks"
SERENE_EXAMPLE = "member_id: 300059049\npatient: Jane Doe\nDOB: 1990-01-15\nservice_date: 2025-03-20"


def fixture_text(task_type: TaskType) -> str:
    return (TASK_FIXTURES / f"{task_type.value}.txt").read_text(encoding="utf-8")
