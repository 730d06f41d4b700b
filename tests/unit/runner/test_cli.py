"""The console script end to end: `accounts create --json`, then `serve` answering the Serene example."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from runner.cli.main import app
from tests.support.ports import free_port

SOPWRIGHT = [sys.executable, "-m", "runner.cli.main"]


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def run(args: list[str], env: dict[str, str]) -> Ran:
    """Run a command in-process (the same Typer app the console script runs)."""
    result = CliRunner().invoke(app, args, env=env, catch_exceptions=False)
    return Ran(result.exit_code, result.stdout, result.stderr)


def run_process(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SOPWRIGHT, *args], env=env, capture_output=True, text=True, timeout=60)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "SOPWRIGHT_DATA_DIR": str(tmp_path / "data"),
        "SOPWRIGHT_DATABASE_URL": "",
        "SOPWRIGHT_SECRET_KEY": "",
    }


@pytest.fixture
def server(env: dict[str, str], tmp_path: Path) -> Iterator[str]:
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [*SOPWRIGHT, "serve", "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120  # a loaded machine loads the ICD-10 code set slowly
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    else:
        proc.kill()
        proc.wait()
        pytest.fail(f"sopwright serve did not start: {log.read_text()}")
    yield base
    proc.terminate()
    proc.wait(timeout=10)


def test_accounts_create_json_then_serve_accepts_the_serene_example(env: dict[str, str], server: str) -> None:
    created = run_process(["accounts", "create", "x", "--json"], env)
    assert created.returncode == 0, created.stderr
    account = json.loads(created.stdout)
    assert set(account) == {"account_id", "api_key", "webhook_secret"}
    assert account["api_key"].startswith("sk_") and account["webhook_secret"].startswith("whsec_")

    headers = {"Authorization": f"Bearer {account['api_key']}"}
    body = {
        "type": "submit_claim",
        "data": "member_id: 300059049\npatient: Jane Doe\nDOB: 1990-01-15\nservice_date: 2025-03-20",
    }
    response = httpx.post(f"{server}/tasks", json=body, headers=headers)
    assert response.status_code == 200, response.text
    task = response.json()
    assert task["accountId"] == account["account_id"]
    assert task["handler"] == "submit_claim_1" and task["title"] == "Submit claim #1"
    assert httpx.get(f"{server}/tasks/{task['id']}", headers=headers).json() == task


def test_cli_errors_are_one_line_not_tracebacks(env: dict[str, str]) -> None:
    assert run(["accounts", "create", "x"], env).returncode == 0
    duplicate = run(["accounts", "create", "x"], env)
    assert duplicate.returncode == 1
    assert "already exists" in duplicate.stderr
    assert "Traceback" not in duplicate.stderr
    missing = run(["keys", "create", "nobody"], env)
    assert missing.returncode == 1 and "No account" in missing.stderr


def test_keys_and_defaults(env: dict[str, str]) -> None:
    run(["accounts", "create", "clinic"], env)
    key = json.loads(run(["keys", "create", "clinic", "--json"], env).stdout)
    assert key["api_key"].startswith(f"sk_{key['key_id']}_")
    assert run(["keys", "revoke", key["key_id"]], env).returncode == 0
    ok = run(
        [
            "accounts",
            "set-defaults",
            "clinic",
            "--billing-npi",
            "2000000002",
            "--tax-id",
            "12-3456789",
            "--place-of-service",
            "11",
        ],
        env,
    )
    assert ok.returncode == 0, ok.stderr
    bad = run(["accounts", "set-defaults", "clinic", "--billing-npi", "1234567890"], env)
    assert bad.returncode == 1 and "NPI" in bad.stderr
    listed = json.loads(run(["accounts", "list", "--json"], env).stdout)
    assert listed[0]["defaults"]["billing_npi"] == "2000000002"


def test_sops_commands(env: dict[str, str], tmp_path: Path) -> None:
    listed = run(["sops", "list"], env)
    assert listed.returncode == 0 and "submit_claim" in listed.stdout
    rendered = run(["sops", "render", "submit_claim", "--data", "member_id: 300059049"], env)
    assert rendered.returncode == 0, rendered.stderr
    assert "Submit claim #1" in rendered.stdout
    assert run(["sops", "validate"], env).returncode == 0
    broken = tmp_path / "broken.yaml"
    broken.write_text("type: submit_claim\nversion: 1\ntitle: x\nsteps: []\nbogus: 1\n")
    invalid = run(["sops", "validate", str(broken)], env)
    assert invalid.returncode == 1
    assert "broken.yaml" in invalid.stderr and "Traceback" not in invalid.stderr


def test_follow_ups_are_switched_per_type(env: dict[str, str]) -> None:
    run(["accounts", "create", "clinic"], env)
    off = run(["accounts", "set-defaults", "clinic", "--follow-up", "submit_claim=off"], env)
    assert off.returncode == 0, off.stderr
    both = ["--follow-up", "submit_prior_authorization=off", "--follow-up", "submit_claim=on"]
    assert run(["accounts", "set-defaults", "clinic", *both], env).returncode == 0
    listed = json.loads(run(["accounts", "list", "--json"], env).stdout)
    assert listed[0]["defaults"]["follow_up"] == {"submit_claim": True, "submit_prior_authorization": False}
    bad = run(["accounts", "set-defaults", "clinic", "--follow-up", "submit_claim"], env)
    assert bad.returncode != 0 and "TYPE=on or TYPE=off" in bad.stderr and "Traceback" not in bad.stderr
    unknown = run(["accounts", "set-defaults", "clinic", "--follow-up", "claims=off"], env)
    assert unknown.returncode == 1 and "'claims' is not a task type" in unknown.stderr
