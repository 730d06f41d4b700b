"""The worker end to end in real Chromium against a scripted portal (handlers.fake): a trajectory
with real screenshots, served to its owner only. The worker's rules (outcomes, retries, review
gates, the exactly-once mark and reconciliation, polling, login stops) are in the unit tier, on a
fake browser: tests/unit/runner/test_worker_rules.py."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from sqlmodel import col, select

from handlers.fake import FakePortal
from runner.core.db import session_scope
from runner.core.runtime import build_worker
from runner.core.settings import Settings
from runner.core.system import System
from runner.core.tables import Account, Task, TrajectoryStep
from tests.support.task_fixtures import task_fixture
from tests.support.threaded import run_async

CLAIM_STEPS = ["login", "open_claim_form", "fill_claim", "submit_claim", "capture_claim_number"]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"trace": "on-failure", "poll_scale": 0.0})


def account_with_login(system: System, payer: str = "fake") -> Account:
    account = system.accounts.create("Clinic").account
    system.credentials.add(
        account.id,
        payer=payer,
        url="http://portal.invalid/fake",
        username="biller",
        password="pw",
        totp_secret=None,
    )
    return account


def claim(system: System, account: Account, *, extra: str = "") -> Task:
    data = task_fixture("submit_claim").replace("payer: Acme Health", "payer: fake") + extra
    task = system.tasks.create(account, type="submit_claim", data=data, actor="test")
    assert task.status == "pending", task.notes
    return task


def run_worker(system: System, portal: FakePortal, steps: Sequence[str] = CLAIM_STEPS) -> None:
    worker = build_worker(system, portals={"fake": portal.handler(steps)}, concurrency=2, poll_interval=0.05)
    run_async(lambda: worker.run(once=True))


def reload(system: System, task_id: str) -> Task:
    with session_scope(system.engine, readonly=True) as session:
        task = session.get(Task, task_id)
        assert task is not None
        return task


def test_happy_path_records_a_trajectory(system: System) -> None:
    account = account_with_login(system)
    task = claim(system, account)
    portal = FakePortal(script={"capture_claim_number": [{"claim_number": "FK0000000001"}]})
    run_worker(system, portal)
    done = reload(system, task.id)
    assert done.status == "completed", done.notes
    assert done.notes == "Claim submitted with reference FK0000000001."
    # The portal is stamped by the runner; the claim's follow-up (a status check) is named by its number.
    assert done.result == {"claim_number": "FK0000000001", "portal": "fake", "follow_up_task_id": 2}
    assert done.submit_attempted_at is not None
    assert done.step_script_version == "fake@fake-1"
    with session_scope(system.engine, readonly=True) as session:
        steps = session.exec(
            select(TrajectoryStep)
            .where(TrajectoryStep.trajectory_id == done.trajectory_id)
            .order_by(col(TrajectoryStep.position))
        ).all()
    assert [s.script for s in steps] == CLAIM_STEPS
    assert all(s.outcome == "ok" for s in steps)
    shots = [system.artifacts.resolve(s.screenshot_path or "").read_bytes() for s in steps]
    # Viewport JPEGs for the steps that succeeded, the full page (PNG) for the last one.
    assert [shot[:2] for shot in shots[:-1]] == [b"\xff\xd8"] * 4
    assert shots[-1].startswith(b"\x89PNG")


def test_trajectory_api_serves_screenshots_to_the_owner_only(system: System) -> None:
    from fastapi.testclient import TestClient

    from runner.api.app import create_app

    created = system.accounts.create("Owner")
    system.credentials.add(
        created.account.id,
        payer="fake",
        url="http://portal.invalid/",
        username="u",
        password="p",
        totp_secret=None,
    )
    stranger = system.accounts.create("Stranger")
    task = claim(system, created.account)
    run_worker(system, FakePortal(script={"capture_claim_number": [{"claim_number": "FK1"}]}))
    with TestClient(create_app(system)) as api:
        owner = {"Authorization": f"Bearer {created.api_key}"}
        body = api.get(f"/tasks/{task.id}/trajectory", headers=owner).json()
        [attempt] = body["attempts"]
        assert [s["script"] for s in attempt["steps"]] == CLAIM_STEPS
        shot = attempt["steps"][0]["screenshot_url"]
        image = api.get(shot, headers=owner)
        assert image.status_code == 200 and image.content.startswith(b"\xff\xd8")
        assert image.headers["content-type"] == "image/jpeg"
        other = {"Authorization": f"Bearer {stranger.api_key}"}
        assert api.get(shot, headers=other).status_code == 404
        assert api.get(f"/tasks/{task.id}/trajectory", headers=other).status_code == 404
        escape = api.get(f"/tasks/{task.id}/artifacts/../../secret.key", headers=owner)
        assert escape.status_code == 404
