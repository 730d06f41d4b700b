"""The sample task inputs in fixtures/tasks/, with their dates moved to today.

A fixture whose dates matter says on which day they were written (`# Dates as of 2026-11-30`);
`task_fixture` shifts every ISO date in it by the days since, so a claim's service date stays
within timely filing and an authorization's dates stay in the future whatever day the suite runs.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

TASK_FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "tasks"
_AS_OF = re.compile(r"^# Dates as of (\d{4}-\d\d-\d\d)", re.MULTILINE)
_DATE = re.compile(r"\b(\d{4}-\d\d-\d\d)\b")


def task_fixture(name: str, *, today: date | None = None) -> str:
    """fixtures/tasks/<name>.txt, its dates shifted from the day it names to `today`."""
    text = (TASK_FIXTURES / f"{name}.txt").read_text(encoding="utf-8")
    written = _AS_OF.search(text)
    if written is None:
        return text
    shift = (today or date.today()) - date.fromisoformat(written.group(1))
    return _DATE.sub(lambda found: (date.fromisoformat(found.group(1)) + shift).isoformat(), text)
