"""The console's batches page: progress, refused rows, links into the batch's tasks; accounts never mix."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from runner.core.batchfile import read_csv
from runner.core.db import session_scope
from runner.core.errors import SopwrightError
from runner.core.system import System
from runner.core.tables import Account, Schedule, utcnow
from tests.unit.console.signed import Person
from tests.unit.runner.test_batches import csv_file, good_row


def import_batch(system: System, account: Account, rows: list[str]) -> int:
    batch = system.batches.create(
        account,
        read_csv(csv_file(rows), max_rows=100),
        type="check_eligibility",
        priority=None,
        source="monday.csv",
        request_hash=str(len(rows)),
        actor="test",
    )
    assert batch.id is not None
    return batch.id


def test_the_batches_page_shows_progress_and_links_into_the_tasks(
    system: System, viewer: Person, clinic: Account, other_clinic: Account
) -> None:
    bad = "300000009,Pat Elm,1990-13-45,acme,2000000002"
    batch_id = import_batch(system, clinic, [good_row(1), good_row(2), bad])
    import_batch(system, other_clinic, [good_row(3)])
    page = viewer.get("/batches")
    assert page.status_code == 200
    assert page.text.count('data-testid="batch-row"') == 1  # the other clinic's batch is not shown
    assert "monday.csv" in page.text and "0 / 2" in page.text and "row 4 · date_of_birth" in page.text
    link = f"/tasks?batch={batch_id}"
    assert link in page.text
    tasks = viewer.get(link)
    assert tasks.status_code == 200
    assert len(re.findall(r"<tr[^>]*data-testid=\"task-row\"", tasks.text)) == 2
    system.tasks.create(clinic, type="check_eligibility", data="member id: X", actor="test")
    assert len(re.findall(r"<tr[^>]*data-testid=\"task-row\"", viewer.get("/tasks").text)) == 3


def test_a_failed_schedule_shows_a_banner(
    system: System, viewer: Person, clinic: Account, tmp_path: Path
) -> None:
    schedule = system.schedules.add(
        clinic, cron="0 18 * * 1-5", type="check_eligibility", source=str(tmp_path / "none.csv")
    )
    assert schedule.id is not None
    assert 'data-testid="schedule-failed"' not in viewer.get("/batches").text
    with pytest.raises(SopwrightError):
        system.schedules.run_now(schedule.id)  # run-now says so at once; a timed firing records it
    with session_scope(system.engine) as session:
        row = session.get(Schedule, schedule.id)
        assert row is not None
        row.next_fire_at = utcnow() - timedelta(minutes=1)
        session.add(row)
    assert system.schedules.fire_due() == 1
    page = viewer.get("/batches").text
    assert 'data-testid="schedule-failed"' in page and "none.csv does not exist" in page
