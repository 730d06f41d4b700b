"""What an attempt keeps, in real Chromium against a scripted portal (handlers.fake), with the
default trace mode: viewport JPEGs for steps that succeed, the full page for the failing and the
last step, the failing page's HTML (redacted of the login's secrets), no trace on a first attempt
and one on the retry, and a screenshot budget that stops screenshots and says so."""

from __future__ import annotations

import stat
import struct
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, select

from handlers.context import StepContext
from handlers.errors import Transient
from handlers.fake import FakePortal
from handlers.registry import PortalHandler
from runner.api.app import create_app
from runner.core.artifacts import ScreenshotMode
from runner.core.db import session_scope
from runner.core.runtime import build_worker
from runner.core.settings import Settings
from runner.core.system import System
from runner.core.tables import Account, Task, Trajectory, TrajectoryStep
from runner.core.trajectory import FINAL_ONLY_NOTE
from tests.support.threaded import run_async

FIXTURE_CLAIM = Path(__file__).resolve().parents[3] / "fixtures" / "tasks" / "submit_claim.txt"
CLAIM_STEPS = ["login", "open_claim_form", "fill_claim", "submit_claim", "capture_claim_number"]
PASSWORD = "Canary-Pass-4417!"
VIEWPORT = (1280, 900)  # runner.core.pool's context viewport
TALL = 3000  # px of page below the text: the full page is taller than the viewport


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'sopwright.db'}"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"poll_scale": 0.0})  # the default trace mode


@pytest.fixture
def account(system: System) -> Account:
    account = system.accounts.create("Clinic").account
    system.credentials.add(
        account.id,
        payer="fake",
        url="http://portal.invalid/fake",
        username="biller",
        password=PASSWORD,
        totp_secret="JBSWY3DPEHPK3PXP",
    )
    return account


def claim(system: System, account: Account, *, charges: tuple[str, ...] = ()) -> Task:
    data = FIXTURE_CLAIM.read_text().replace("payer: Acme Health", "payer: fake")
    if charges:
        kept = [line for line in data.splitlines() if not line.lower().startswith(("service line", "total"))]
        lines = [f"service line: cpt=99215, units=1, charge={c}, pointers=A" for c in charges]
        data = "\n".join(kept + lines) + "\n"
    task = system.tasks.create(account, type="submit_claim", data=data, actor="test")
    assert task.status == "pending", task.notes
    return task


def run_worker(system: System, portals: Mapping[str, PortalHandler]) -> None:
    worker = build_worker(system, portals=portals, concurrency=1, poll_interval=0.05)
    run_async(lambda: worker.run(once=True))


def fake(portal: FakePortal, **scripts: object) -> dict[str, PortalHandler]:
    handler = portal.handler(CLAIM_STEPS)
    return {"fake": replace(handler, scripts={**handler.scripts, **scripts})}


def attempts(system: System, task_id: str) -> list[tuple[Trajectory, list[TrajectoryStep]]]:
    with session_scope(system.engine, readonly=True) as session:
        trajectories = session.exec(
            select(Trajectory).where(Trajectory.task_id == task_id).order_by(col(Trajectory.attempt))
        ).all()
        return [
            (
                t,
                list(
                    session.exec(
                        select(TrajectoryStep)
                        .where(TrajectoryStep.trajectory_id == t.id)
                        .order_by(col(TrajectoryStep.position))
                    ).all()
                ),
            )
            for t in trajectories
        ]


def image_size(data: bytes) -> tuple[str, int, int]:
    """(format, width, height) of a PNG or baseline/progressive JPEG."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        width, height = struct.unpack(">II", data[16:24])
        return "png", width, height
    assert data.startswith(b"\xff\xd8"), "neither PNG nor JPEG"
    at = 2
    while at < len(data):
        marker, length = data[at + 1], struct.unpack(">H", data[at + 2 : at + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            height, width = struct.unpack(">HH", data[at + 5 : at + 9])
            return "jpeg", width, height
        at += 2 + length
    raise AssertionError("no JPEG frame header")


def shot(system: System, step: TrajectoryStep) -> tuple[str, int, int]:
    assert step.screenshot_path is not None, f"{step.step_id} has no screenshot ({step.screenshot_note})"
    return image_size(system.artifacts.resolve(step.screenshot_path).read_bytes())


def folder_of(system: System, trajectory: Trajectory) -> Path:
    return system.artifacts.root / trajectory.account_id / trajectory.task_id / trajectory.id


def test_steps_that_succeed_get_a_viewport_jpeg_and_the_last_one_the_full_page(
    system: System, account: Account
) -> None:
    task = claim(system, account)
    portal = FakePortal(filler_px=TALL, script={"capture_claim_number": [{"claim_number": "FK1"}]})
    run_worker(system, fake(portal))
    [(trajectory, steps)] = attempts(system, task.id)
    assert trajectory.outcome == "completed"
    assert [shot(system, s) for s in steps[:-1]] == [("jpeg", *VIEWPORT)] * 4
    kind, width, height = shot(system, steps[-1])
    assert (kind, width) == ("png", VIEWPORT[0]) and height > TALL
    assert all(s.html_path is None and s.screenshot_note is None for s in steps)
    # A first attempt is not traced by default.
    assert trajectory.trace_path is None
    assert not list(folder_of(system, trajectory).glob("*.zip"))


def test_a_step_that_ends_on_a_blank_page_gets_no_screenshot_and_says_so(
    system: System, account: Account
) -> None:
    task = claim(system, account)
    portal = FakePortal(script={"capture_claim_number": [{"claim_number": "FK4"}]})

    async def login(ctx: StepContext) -> None:  # a stored session kept: no page loaded
        return None

    run_worker(system, fake(portal, login=login))
    [(trajectory, steps)] = attempts(system, task.id)
    assert trajectory.outcome == "completed"
    first, *rest = steps
    assert first.outcome == "ok" and first.screenshot_path is None
    assert first.screenshot_note == "No screenshot: the page was blank (the step loaded no page)."
    assert [shot(system, s)[0] for s in rest] == ["jpeg"] * 3 + ["png"]
    assert not list(folder_of(system, trajectory).glob("00-*"))


def test_a_failed_first_attempt_keeps_its_screenshots_and_the_failing_page_but_no_trace(
    system: System, account: Account
) -> None:
    task = claim(system, account)
    portal = FakePortal(filler_px=TALL, script={"capture_claim_number": [{"claim_number": "FK2"}]})
    calls = []

    async def fill_claim(ctx: StepContext) -> None:  # a portal that echoes the typed password back
        calls.append(1)
        await ctx.page.set_content(
            f'<h1>Claim</h1><input name="password" value="{ctx.credentials.password}">'
            f'<p>Signed in as biller</p><div style="height:{TALL}px"></div><p>end</p>'
        )
        if len(calls) == 1:
            raise Transient("The payer is unavailable (AAA 42).")

    handlers = fake(portal, fill_claim=fill_claim)
    run_worker(system, handlers)
    [(first, steps)] = attempts(system, task.id)
    assert first.outcome == "pending" and first.trace_path is None
    folder = folder_of(system, first)
    assert not list(folder.glob("*.zip"))
    login, open_form, fill = steps
    assert [shot(system, s) for s in (login, open_form)] == [("jpeg", *VIEWPORT)] * 2
    kind, _width, height = shot(system, fill)
    assert fill.outcome == "Transient" and kind == "png" and height > TALL
    assert login.html_path is None and open_form.html_path is None
    assert fill.html_path is not None and fill.html_path.endswith("02-fill.html")
    page = system.artifacts.resolve(fill.html_path)
    html = page.read_text()
    assert "Signed in as biller" in html and "[redacted]" in html and PASSWORD not in html
    assert stat.S_IMODE(page.stat().st_mode) == 0o600
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in folder.iterdir())

    with session_scope(system.engine) as session:  # the retry is due now
        row = session.get(Task, task.id)
        assert row is not None
        row.run_after = None
        session.add(row)
    run_worker(system, handlers)
    _, (second, retried) = attempts(system, task.id)
    assert second.outcome == "completed" and second.attempt == 2
    assert second.trace_path is not None  # a retry is traced, and its trace kept
    assert system.artifacts.resolve(second.trace_path).read_bytes().startswith(b"PK")
    assert shot(system, retried[-1])[0] == "png"


def test_the_trajectory_api_lists_and_serves_the_page_html_and_jpegs(system: System) -> None:
    created = system.accounts.create("Owner")
    system.credentials.add(
        created.account.id,
        payer="fake",
        url="http://portal.invalid/",
        username="u",
        password="p4ssword",
        totp_secret=None,
    )
    task = claim(system, created.account)
    run_worker(system, fake(FakePortal(script={"fill_claim": [Transient("Try later.")]})))
    with TestClient(create_app(system)) as api:
        owner = {"Authorization": f"Bearer {created.api_key}"}
        [attempt] = api.get(f"/tasks/{task.id}/trajectory", headers=owner).json()["attempts"]
        login, _open, fill = attempt["steps"]
        image = api.get(login["screenshot_url"], headers=owner)
        assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
        assert image.content.startswith(b"\xff\xd8")
        assert login["html_url"] is None and login["screenshot_note"] is None
        page = api.get(fill["html_url"], headers=owner)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert page.headers["content-disposition"].startswith("attachment")
        assert page.headers["content-security-policy"].startswith("sandbox")
        assert "step fill_claim" in page.text
        stranger = system.accounts.create("Stranger")
        assert (
            api.get(fill["html_url"], headers={"Authorization": f"Bearer {stranger.api_key}"}).status_code
            == 404
        )


def test_a_review_gate_ends_the_attempt_on_a_full_page_shot(system: System, account: Account) -> None:
    task = claim(system, account, charges=("2000.00", "2000.00", "2000.00"))
    run_worker(system, fake(FakePortal(filler_px=TALL)))
    [(trajectory, steps)] = attempts(system, task.id)
    assert trajectory.outcome == "pending_review"
    assert [s.step_id for s in steps] == ["login", "open_form", "fill"]
    kind, _width, height = shot(system, steps[-1])  # what the reviewer looks at before the submit
    assert kind == "png" and height > TALL
    assert sorted(p.name for p in folder_of(system, trajectory).iterdir()) == [
        "00-login.jpg",
        "01-open_form.jpg",
        "02-fill.png",
    ]


def test_the_screenshot_budget_stops_screenshots_and_says_so(system: System, account: Account) -> None:
    portal = FakePortal(script={"capture_claim_number": [{"claim_number": "FK3"}]})
    first = claim(system, account)
    run_worker(system, fake(portal))
    [(_, steps)] = attempts(system, first.id)
    one = system.artifacts.resolve(steps[0].screenshot_path or "").stat().st_size
    budget = one * 3 // 2  # room for one viewport shot, not two
    tight = replace(system, settings=system.settings.model_copy(update={"screenshot_budget_bytes": budget}))
    second = claim(system, account)
    run_worker(tight, fake(portal))
    [(trajectory, steps)] = attempts(system, second.id)
    assert trajectory.outcome == "completed"
    assert steps[0].screenshot_path is not None and steps[0].screenshot_note is None
    for step in steps[1:]:
        assert step.screenshot_path is None
        assert (
            step.screenshot_note
            == f"No screenshot: this attempt's screenshot budget ({budget} bytes) is spent."
        )
    kept = sum(p.stat().st_size for p in folder_of(system, trajectory).iterdir())
    assert kept <= budget


def with_screenshots(system: System, mode: str) -> System:
    return replace(system, settings=system.settings.model_copy(update={"screenshots": ScreenshotMode(mode)}))


def test_screenshots_final_keeps_the_last_steps_full_page_only(system: System, account: Account) -> None:
    task = claim(system, account)
    portal = FakePortal(filler_px=TALL, script={"capture_claim_number": [{"claim_number": "FK5"}]})
    run_worker(with_screenshots(system, "final"), fake(portal))
    [(trajectory, steps)] = attempts(system, task.id)
    assert trajectory.outcome == "completed"
    for step in steps[:-1]:
        assert step.screenshot_path is None and step.screenshot_note == FINAL_ONLY_NOTE
    kind, width, height = shot(system, steps[-1])
    assert (kind, width) == ("png", VIEWPORT[0]) and height > TALL and steps[-1].screenshot_note is None
    assert [p.name for p in folder_of(system, trajectory).iterdir()] == ["04-capture.png"]


def test_screenshots_final_still_shows_the_failing_step_and_a_review_gates_last(
    system: System, account: Account
) -> None:
    final = with_screenshots(system, "final")
    failing = claim(system, account)
    run_worker(final, fake(FakePortal(filler_px=TALL, script={"fill_claim": [Transient("Try later.")]})))
    [(_, (login, open_form, fill))] = attempts(system, failing.id)
    assert login.screenshot_path is None and open_form.screenshot_path is None
    kind, _width, height = shot(system, fill)
    assert fill.outcome == "Transient" and kind == "png" and height > TALL and fill.html_path is not None

    gated = claim(system, account, charges=("2000.00", "2000.00", "2000.00"))
    run_worker(final, fake(FakePortal(filler_px=TALL)))
    [(trajectory, steps)] = attempts(system, gated.id)
    assert trajectory.outcome == "pending_review" and [s.step_id for s in steps][-1] == "fill"
    kind, _width, height = shot(system, steps[-1])  # taken when the attempt ended, its note gone
    assert kind == "png" and height > TALL and steps[-1].screenshot_note is None
    assert [p.name for p in folder_of(system, trajectory).iterdir()] == ["02-fill.png"]


def test_screenshots_off_takes_none_but_keeps_the_failing_page(system: System, account: Account) -> None:
    task = claim(system, account)
    run_worker(
        with_screenshots(system, "off"), fake(FakePortal(script={"fill_claim": [Transient("Later.")]}))
    )
    [(trajectory, steps)] = attempts(system, task.id)
    assert all(s.screenshot_path is None for s in steps)
    assert steps[-1].html_path is not None
    assert [p.suffix for p in folder_of(system, trajectory).iterdir()] == [".html"]
