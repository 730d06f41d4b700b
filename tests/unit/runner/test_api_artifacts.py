"""Artifacts are served from the store only: a recorded screenshot replaced by a link out of the
store is a 404 on the API and the console, never a 500 and never the linked file (issue 15, item 6)."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from runner.core.db import session_scope
from runner.core.system import System
from runner.core.tables import Trajectory, TrajectoryStep
from tests.unit.runner.callers import Caller

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def recorded_screenshot(system: System, caller: Caller) -> tuple[str, str, Path]:
    account = system.accounts.find(caller.account_id)
    task = system.tasks.create(account, type="check_eligibility", data="member: 1", actor="test")
    with session_scope(system.engine) as session:
        trajectory = Trajectory(task_id=task.id, account_id=account.id, attempt=1, worker="w")
        session.add(trajectory)
        session.flush()
        folder = system.artifacts.dir_for(account.id, task.id, trajectory.id)
        shot = folder / "01-login.png"
        shot.write_bytes(PNG)
        name = system.artifacts.relative(shot)
        step = TrajectoryStep(
            trajectory_id=trajectory.id, position=1, step_id="login", script="login", outcome="ok"
        )
        step.screenshot_path = name
        session.add(step)
    return task.id, name, shot


def test_a_recorded_artifact_is_served(api: TestClient, caller: Caller, system: System) -> None:
    task_id, name, _ = recorded_screenshot(system, caller)
    response = api.get(f"/tasks/{task_id}/artifacts/{name}", headers=caller.headers)
    assert response.status_code == 200 and response.content == PNG


def test_an_artifact_replaced_by_a_link_out_of_the_store_is_404(
    api: TestClient, caller: Caller, system: System, tmp_path: Path
) -> None:
    task_id, name, shot = recorded_screenshot(system, caller)
    outside = tmp_path / "outside-secret.txt"
    outside.write_text("not an artifact")
    shot.unlink()
    shot.symlink_to(outside)
    response = api.get(f"/tasks/{task_id}/artifacts/{name}", headers=caller.headers)
    assert response.status_code == 404, response.text
    assert response.json()["error"]["code"] == "not_found"
    assert "not an artifact" not in response.text


def test_artifacts_are_linked_by_the_attempts_integer_id(
    api: TestClient, caller: Caller, other_caller: Caller, system: System
) -> None:
    task_id, _name, _ = recorded_screenshot(system, caller)
    task, [attempt] = system.trajectories.task_and_trajectories(caller.account_id, task_id)
    shown = api.get(f"/tasks/{task.public_id}/trajectory", headers=caller.headers).json()
    link = shown["attempts"][0]["steps"][0]["screenshot_url"]
    assert link.endswith(f"/tasks/{task.public_id}/artifacts/{attempt.trajectory.public_id}/01-login.png")
    assert task_id not in link and caller.account_id not in link  # no UUID in the URL
    served = api.get(link, headers=caller.headers)
    assert served.status_code == 200 and served.content == PNG
    assert api.get(link, headers=other_caller.headers).status_code == 404
    wrong = f"/tasks/{task.public_id}/artifacts/{attempt.trajectory.public_id + 1}/01-login.png"
    assert api.get(wrong, headers=caller.headers).status_code == 404
