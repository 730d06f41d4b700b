"""`sopwright webhooks ...`, `accounts rotate-webhook-secret` and the SSRF check at configuration."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner
from webhook_clinic import Clinic

from runner.cli.main import app
from runner.core import keys
from runner.core.destinations import AddressGuard
from runner.core.settings import Settings
from runner.core.states import TaskStatus
from runner.core.system import System, build
from runner.core.tables import utcnow
from runner.core.webhooks import signing
from runner.core.webhooks.receiver import Receiver
from runner.core.webhooks.sender import Sender


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "SOPWRIGHT_DATA_DIR": str(tmp_path / "data"),
        "SOPWRIGHT_DATABASE_URL": "",
        "SOPWRIGHT_SECRET_KEY": "",
        "SOPWRIGHT_ALLOW_HOSTS": "127.0.0.1",
        "SOPWRIGHT_WEBHOOK_TIMEOUT": "2",
    }


@pytest.fixture
def core(env: dict[str, str], tmp_path: Path) -> Iterator[System]:
    """The same database the commands use, for setting up tasks."""
    run(["accounts", "list"], env)  # creates the database and key as the CLI would
    built = build(Settings(data_dir=tmp_path / "data", allow_hosts="127.0.0.1"))
    yield built
    built.close()


def run(args: list[str], env: dict[str, str], code: int = 0) -> str:
    """The command's output (stdout, then stderr) after checking its exit code."""
    result = CliRunner().invoke(app, args, env=env, catch_exceptions=False)
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result.stdout + result.stderr


def run_json(args: list[str], env: dict[str, str]) -> Any:
    result = CliRunner().invoke(app, [*args, "--json"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    # In-process, a log line may land in the captured stdout after the document: read just the JSON.
    return json.JSONDecoder().raw_decode(result.stdout)[0]


@pytest.mark.parametrize(
    "url", ["http://169.254.169.254/latest/meta-data/", "http://2130706434/", "http://[::ffff:10.0.0.1]/"]
)
def test_internal_urls_are_refused_at_configuration(env: dict[str, str], url: str) -> None:
    assert "address" in run(["accounts", "create", "Clinic", "--webhook-url", url], env, code=1)
    run(["accounts", "create", "Clinic"], env)
    assert "address" in run(["accounts", "set-webhook", "Clinic", url], env, code=1)


def test_production_refuses_http(env: dict[str, str]) -> None:
    env = {**env, "SOPWRIGHT_PRODUCTION": "true"}
    assert "https" in run(
        ["accounts", "create", "Clinic", "--webhook-url", "http://127.0.0.1:9/"], env, code=1
    )


def test_test_rotate_list_dispatch_redeliver(env: dict[str, str], core: System, receiver: Receiver) -> None:
    created = run_json(["accounts", "create", "Clinic", "--webhook-url", receiver.url], env)
    assert "ok" in run(["webhooks", "test", "Clinic"], env)
    receiver.received[0].verify(created["webhook_secret"])

    rotated = run_json(["accounts", "rotate-webhook-secret", "Clinic", "--overlap-hours", "2"], env)
    new = rotated["webhook_secret"]
    assert new.startswith("whsec_") and new != created["webhook_secret"]
    run(["webhooks", "test", "Clinic"], env)
    receiver.received[1].verify(new)
    receiver.received[1].verify(created["webhook_secret"])  # the overlap

    clinic = Clinic(core, "Other", None)
    clinic.id = core.accounts.find(str(created["account_id"])).id
    clinic.finish(clinic.task(), TaskStatus.FAILED)
    assert "1 webhook attempt(s)" in run(["webhooks", "dispatch", "--once"], env)
    listed = run_json(["webhooks", "list", "Clinic", "--status", "delivered"], env)
    finished = [d for d in listed if d["event"] == "task_finished"]
    assert len(finished) == 1 and finished[0]["attempt_log"][0]["status_code"] == 200
    # The human table: its width is the terminal's (fixed when the CLI's console is created, so a
    # COLUMNS set here may come too late); the JSON above carries every field.
    assert "200" in run(["webhooks", "list", "Clinic"], env)

    run(["webhooks", "redeliver", finished[0]["id"]], env)
    run(["webhooks", "dispatch", "--once"], env)
    assert [r.webhook_id for r in receiver.received[-2:]] == [finished[0]["id"]] * 2
    assert "No webhook delivery" in run(["webhooks", "redeliver", "nope"], env, code=1)


def test_events_subscription(env: dict[str, str]) -> None:
    run(["accounts", "create", "Clinic"], env)
    assert "task_finished, task_pending_review" in run(
        ["webhooks", "events", "Clinic", "task_pending_review"], env
    )
    assert "optional events" in run(["webhooks", "events", "Clinic", "task_started"], env, code=1)
    assert "Webhook events for Clinic: task_finished\n" in run(["webhooks", "events", "Clinic"], env)


def test_a_failing_test_event_exits_nonzero(env: dict[str, str], receiver: Receiver) -> None:
    run(["accounts", "create", "Clinic", "--webhook-url", receiver.url], env)
    receiver.stop()
    assert "failed" in run(["webhooks", "test", "Clinic"], env, code=1)


def test_the_local_receiver_prints_verified_events(env: dict[str, str]) -> None:
    secret = keys.generate_webhook_secret()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "runner.cli.main", "webhooks", "receive", "--port", str(port)]
    child = subprocess.Popen(
        command, env={**env, "SOPWRIGHT_RECEIVER_SECRET": secret}, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        assert "Receiving webhooks" in child.stdout.readline()
        payload = {"event": "task_finished", "created_at": "2026-03-20T12:00:00.000Z", "data": {"id": "t-1"}}
        for signer in (secret, keys.generate_webhook_secret()):
            body = signing.signed_body(payload, [signer])
            sender = Sender(AddressGuard(["127.0.0.1"]), timeout=5)
            headers = signing.headers("d-1", utcnow(), body, [signer])
            assert sender.post(f"http://127.0.0.1:{port}/hooks", headers, body).ok
        assert child.stdout.readline().split() == ["d-1", "task_finished", "task=t-1", "status=-", "verified"]
        assert "signature check failed" in child.stdout.readline()
        child.terminate()
        assert child.wait(timeout=30) == 0  # SIGTERM stops it cleanly
    finally:
        if child.poll() is None:
            child.kill()
        child.communicate(timeout=10)


def test_the_dispatcher_command_sends_until_sigterm(
    env: dict[str, str], core: System, receiver: Receiver
) -> None:
    created = run_json(["accounts", "create", "Clinic", "--webhook-url", receiver.url], env)
    command = [sys.executable, "-m", "runner.cli.main", "webhooks", "dispatch"]
    child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        assert "running; Ctrl-C to stop" in child.stdout.readline()
        # Written by this process: on SQLite the other process finds it at its next poll.
        clinic = Clinic(core, "Other", None)
        clinic.id = core.accounts.find(str(created["account_id"])).id
        clinic.finish(clinic.task(), TaskStatus.FAILED)
        [request] = receiver.wait_for(1, timeout=30)
        request.verify(created["webhook_secret"])
        child.send_signal(signal.SIGTERM)
        assert child.wait(timeout=30) == 0, child.communicate()
    finally:
        if child.poll() is None:
            child.kill()
        child.communicate(timeout=10)
