"""`sopwright replay` against the mock portal: steps printed live, a claim number at the end."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support.portal_server import MockPortalAdmin

ROOT = Path(__file__).resolve().parents[3]


def test_replay_submits_a_claim_and_prints_each_step(portal_url: str, portal: MockPortalAdmin) -> None:
    user = httpx.get(f"{portal_url}/_mock/users").json()["acme"][0]
    env = {
        **os.environ,
        "REPLAY_PASSWORD": user["password"],
        "REPLAY_TOTP": user["totp_secret"],
        "COLUMNS": "200",
    }
    command = [
        sys.executable, "-m", "runner.cli.main", "replay", "submit_claim",
        "--data-file", str(ROOT / "fixtures" / "replay" / "submit_claim_acme.txt"),
        "--portal", f"{portal_url}/acme", "--payer", "acme", "--username", user["username"],
        "--password-env", "REPLAY_PASSWORD", "--totp-secret-env", "REPLAY_TOTP",
    ]  # fmt: skip
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    for step in ("login", "open_form", "fill", "submit", "capture"):
        assert step in done.stdout
    assert "point of no return: submit" in done.stdout
    claims = httpx.get(f"{portal_url}/_mock/submissions", params={"payer": "acme", "kind": "claim"}).json()
    assert len(claims) == 1
    number = next(iter(v for k, v in claims[0]["identifiers"].items() if "claim" in k))
    assert number in done.stdout
    assert "completed" in done.stdout


def test_replay_refuses_incomplete_data_before_opening_a_browser(portal_url: str) -> None:
    env = {**os.environ, "REPLAY_PASSWORD": "x"}
    command = [
        sys.executable, "-m", "runner.cli.main", "replay", "submit_claim", "--data", "member_id: SYN100001",
        "--portal", f"{portal_url}/acme", "--payer", "acme", "--username", "u",
        "--password-env", "REPLAY_PASSWORD",
    ]  # fmt: skip
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 1
    assert "not complete" in done.stderr and "Traceback" not in done.stderr
