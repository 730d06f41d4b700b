"""`sopwright tasks import` and `sopwright batches show|list`, in-process (the console script's app)."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
from pathlib import Path

from tests.unit.runner.test_batches import csv_file, good_row
from tests.unit.runner.test_cli import SOPWRIGHT, env, run  # noqa: F401  (the fixture)


def test_import_a_csv_then_show_the_batch_and_its_results(env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    assert run(["accounts", "create", "Clinic CLI"], env).returncode == 0
    source = tmp_path / "appointments.csv"
    source.write_bytes(csv_file([good_row(1), good_row(2), "300000003,Pat Elm,1990-13-45,acme,2000000002"]))

    imported = run(["tasks", "import", "Clinic CLI", str(source), "--type", "check_eligibility"], env)
    assert imported.returncode == 0, imported.stderr
    said = " ".join(imported.stdout.split())  # the console wraps long lines
    # The account has no portal login yet: its tasks wait for input naming it, as POST /tasks does.
    assert "3 rows, 2 tasks created (2 waiting for input), 1 rows refused" in said
    assert "date_of_birth" in imported.stdout

    results = tmp_path / "results.csv"
    shown = run(["batches", "show", "1", "--csv", str(results)], env)
    assert shown.returncode == 0, shown.stderr
    with results.open(encoding="utf-8") as handle:
        records = list(csv.DictReader(handle))
    assert [(r["row"], r["status"]) for r in records] == [
        ("2", "waiting_for_input"),
        ("3", "waiting_for_input"),
        ("4", "refused"),
    ]
    assert "no portal login is set up for 'acme'" in records[0]["notes"]
    [account] = json.loads(run(["accounts", "list", "--json"], env).stdout)
    shown_json = json.loads(run(["batches", "show", "1", "--json"], env).stdout)
    assert shown_json["accountId"] == account["account_id"] and isinstance(shown_json["accountId"], int)
    listed = json.loads(run(["batches", "list", "Clinic CLI", "--json"], env).stdout)
    assert [(b["id"], b["source"], b["created"]) for b in listed] == [(1, "appointments.csv", 2)]


def test_a_bad_file_is_one_clear_line(env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    assert run(["accounts", "create", "Clinic CLI"], env).returncode == 0
    source = tmp_path / "bad.csv"
    source.write_bytes(csv_file([good_row(1)], header="member_id;patient;DOB;payer;provider_npi"))
    failed = run(["tasks", "import", "Clinic CLI", str(source), "--type", "check_eligibility"], env)
    assert failed.returncode == 1
    assert "semicolons" in failed.stderr and "Traceback" not in failed.stderr
    assert run(["batches", "show", "1"], env).returncode == 1


def test_waiting_on_a_batch_stops_at_sigterm_and_the_batch_goes_on(
    env: dict[str, str],  # noqa: F811
    tmp_path: Path,
) -> None:
    assert run(["accounts", "create", "Clinic CLI"], env).returncode == 0
    source = tmp_path / "appointments.csv"
    source.write_bytes(csv_file([good_row(1)]))
    # No portal login: the task waits for input, so the wait would go on until stopped.
    command = [*SOPWRIGHT, "tasks", "import", "Clinic CLI", str(source), "--type", "check_eligibility"]
    command.append("--wait")
    child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        for line in child.stdout:  # said once the wait can be stopped
            if "Ctrl-C stops the wait" in line:
                break
        child.send_signal(signal.SIGTERM)
        out, err = child.communicate(timeout=60)
        assert child.returncode == 0, err
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate(timeout=10)
    assert "waiting_for_input" in out  # the summary after the wait: the batch's counts
    shown = json.loads(run(["batches", "show", "1", "--json"], env).stdout)
    assert shown["finishedAt"] is None  # stopping the wait stopped nothing else
