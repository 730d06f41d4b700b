"""`sopwright schedules add|list|pause|resume|run-now|remove`, in-process."""

from __future__ import annotations

import json
from pathlib import Path

from tests.unit.runner.test_batches import csv_file, good_row
from tests.unit.runner.test_cli import env, run  # noqa: F401  (the fixture)


def test_the_schedule_commands(env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    assert run(["accounts", "create", "Clinic Cron"], env).returncode == 0
    source = tmp_path / "appointments.csv"
    source.write_bytes(csv_file([good_row(1), good_row(2)]))
    added = run(
        [
            "schedules",
            "add",
            "Clinic Cron",
            "--cron",
            "0 18 * * 1-5",
            "--type",
            "check_eligibility",
            "--from",
            str(source),
            "--timezone",
            "America/New_York",
        ],
        env,
    )
    assert added.returncode == 0, added.stderr
    assert "Schedule 1: next firing" in added.stdout
    [listed] = json.loads(run(["schedules", "list", "Clinic Cron", "--json"], env).stdout)
    assert listed["cron"] == "0 18 * * 1-5" and listed["timezone"] == "America/New_York"
    assert listed["account_id"] == 1  # the integer id `accounts list` shows, not the row's UUID
    assert run(["schedules", "pause", "1"], env).returncode == 0
    assert json.loads(run(["schedules", "list", "--json"], env).stdout)[0]["paused"] is True
    assert "next firing" in run(["schedules", "resume", "1"], env).stdout
    fired = run(["schedules", "run-now", "1"], env)
    assert fired.returncode == 0 and "batch 1 with 2 tasks" in fired.stdout
    bad = run(
        [
            "schedules",
            "add",
            "Clinic Cron",
            "--cron",
            "every day",
            "--type",
            "check_eligibility",
            "--from",
            "x.csv",
        ],
        env,
    )
    assert bad.returncode == 1 and "Invalid cron expression" in bad.stderr
    assert run(["schedules", "remove", "1"], env).returncode == 0
    assert run(["schedules", "remove", "1"], env).returncode == 1
