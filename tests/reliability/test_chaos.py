"""The chaos test (CI size): tasks of all four types on both payers, three `sopwright worker`
processes on PostgreSQL, a worker killed with SIGKILL every few seconds and restarted, the mock
portal failing page loads (10 %), slow at random and ending every session now and then, a webhook
receiver failing 20 % of deliveries. Submissions are followed up (issue 13): the run advances the
portal's clock and asks the follow-ups for their checks under the same chaos. Every task, the
follow-ups included, must end final, submitted once (follow-ups submit nothing), announced once.

The negative control turns reconciliation off, lets the portal accept duplicates, and kills only a
worker that holds a task the portal has already received: the same checks must then find
duplicates. The full-size run is `bench/chaos.py` (200 tasks).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from mock_portal.app import create_app
from mock_portal.portal import PortalConfig
from tests.conftest import POSTGRES_ADMIN_URL

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from chaos_harness import ChaosConfig, ChaosReport, run_chaos

pytestmark = pytest.mark.postgres


def explain(report: ChaosReport) -> str:
    return "\n".join(
        [
            *report.failures(),
            *report.details[:10],
            *report.unexpected_log_errors[:10],
            *report.reviews_unexpected[:5],
            *report.stuck[:5],
            f"statuses {dict(report.statuses)}; logs in {report.work_dir}",
        ]
    )


def test_chaos_every_task_final_submitted_once_announced_once() -> None:
    report = run_chaos(
        ChaosConfig(
            admin_url=POSTGRES_ADMIN_URL,
            tasks=16,  # two of each type on each payer
            workers=3,
            concurrency=2,
            kill_every=10,
            # A cap, not a figure: the run ends sooner when no task has become final for 5
            # minutes (a livelock).
            timeout=1800,
            stall_seconds=300,
            seed=7,
        )
    )
    assert report.ok, explain(report)
    # Every submitted claim is followed up (a pended authorization too): they are tasks of the run.
    assert report.follow_ups >= 4 and report.follow_up_rounds > 0, explain(report)
    assert report.tasks == 16 + report.follow_ups and not report.stuck
    assert report.duplicates == 0 and report.submitted_more == 0
    assert report.tasks_acked_once == report.tasks
    # The chaos happened: workers died and portal sessions ended under running tasks.
    assert report.kills > 0 and report.session_expiries > 0


def test_negative_control_without_reconciliation_finds_duplicates() -> None:
    report = run_chaos(
        ChaosConfig(
            admin_url=POSTGRES_ADMIN_URL,
            tasks=8,  # one of each type on each payer: 6 of them submit something
            workers=2,
            concurrency=2,
            latency_ms=300,  # pages after the submit click are slow: the kill lands before the end
            error_rate=0.0,
            session_expiry_every=0,
            webhook_failure_rate=0.0,
            reconcile=False,
            kill_past_submit=True,
            timeout=300,
            seed=11,
            keep_work_dir=False,  # its checks fail on purpose
        )
    )
    assert report.kills > 0, explain(report)
    assert report.follow_ups > 0, explain(report)  # follow-ups on here too: they hide no duplicate
    assert report.duplicates > 0, explain(report)
    assert not report.ok and any("more than once" in line for line in report.failures())


def test_latency_jitter_and_error_scope_knobs() -> None:
    """The two knobs the chaos run adds to the mock portal: validated, and reset restores them."""
    with TestClient(create_app(PortalConfig(admin=True))) as web:
        assert web.patch("/_mock/knobs", json={"latency_jitter_ms": -1}).status_code == 422
        assert web.patch("/_mock/knobs", json={"error_scope": "some"}).status_code == 422
        knobs = web.patch(
            "/_mock/knobs", json={"latency_jitter_ms": 5, "error_scope": "pages", "error_rate": 1.0}
        ).json()
        assert knobs["latency_jitter_ms"] == 5 and knobs["error_scope"] == "pages"
        # With scope "pages", a script's fetch() is spared; a page load still fails.
        fetch = web.get("/beacon/api/payers?q=ac", headers={"Sec-Fetch-Dest": "empty"})
        assert fetch.status_code != 500
        assert web.get("/acme/login", headers={"Sec-Fetch-Dest": "document"}).status_code == 500
        web.post("/_mock/reset")
        knobs = web.get("/_mock/knobs").json()
        assert knobs["latency_jitter_ms"] == 0 and knobs["error_scope"] == "all"
