"""A batch run by the worker in real Chromium (a scripted portal), its webhooks received by a real
HTTP receiver: one task_finished per task, then one batch_finished, both signed."""

from __future__ import annotations

import json

import pytest

from handlers.fake import FakePortal
from runner.core.batchfile import read_csv
from runner.core.runtime import build_worker
from runner.core.settings import Settings
from runner.core.system import System
from runner.core.webhooks.receiver import Receiver
from tests.support.threaded import run_async

pytestmark = pytest.mark.e2e

STEPS = ["login", "open_eligibility_search", "fill_eligibility", "read_eligibility_result"]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"poll_scale": 0.0})


def test_a_batch_runs_and_its_webhooks_arrive(system: System) -> None:
    with Receiver().running() as receiver:
        created = system.accounts.create("Clinic Batch", webhook_url=receiver.url)
        account = created.account
        system.credentials.add(
            account.id,
            payer="fake",
            url="http://portal.invalid/fake",
            username="biller",
            password="pw",
            totp_secret=None,
            rate_per_minute=6000,  # spread 0.01 s apart: all due within the run
        )
        rows = "\r\n".join(
            ["member_id,patient,DOB,payer"]
            + [f"30000000{i},Pat Alder,1980-02-0{i + 1},fake" for i in range(3)]
        )
        batch = system.batches.create(
            account,
            read_csv(rows.encode(), max_rows=10),
            type="check_eligibility",
            priority=None,
            source="three.csv",
            request_hash="three",
            actor="test",
        )
        assert batch.id is not None and batch.created == 3
        worker = build_worker(
            system, portals={"fake": FakePortal().handler(STEPS)}, concurrency=2, poll_interval=0.05
        )
        run_async(lambda: worker.run(once=True))
        stored, counts, _ = system.batches.get(account.id, batch.id)
        assert counts["completed"] == 3 and stored.finished_at is not None

        system.webhooks.dispatcher().run_until_idle()
        received = receiver.wait_for(4, timeout=30)
        bodies = [r.verify(created.webhook_secret) for r in received]
        events = sorted(body["event"] for body in bodies)
        assert events == ["batch_finished", "task_finished", "task_finished", "task_finished"]
        [finished] = [body for body in bodies if body["event"] == "batch_finished"]
        assert finished["data"]["id"] == batch.id and finished["data"]["counts"]["completed"] == 3
        assert finished["data"]["progress"] == 1.0 and "signature" in json.loads(received[0].body)
