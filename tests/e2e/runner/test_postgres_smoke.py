"""The browser tier's smoke on PostgreSQL: a worker checks eligibility and submits a claim on the
mock portal (real Chromium) with the store on PostgreSQL, and the signed webhooks arrive.

The rest of the browser tier runs on SQLite (see conftest.py); this is the subset that shows the
worker's claim (`FOR UPDATE SKIP LOCKED`), lease writes, JSON results, the outbox and the
dispatcher on the other backend.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlmodel import col, select

from runner.core import db
from runner.core.db import session_scope
from runner.core.settings import Settings
from runner.core.system import System
from runner.core.tables import WebhookDelivery, metadata
from runner.core.webhooks.receiver import Receiver
from tests.e2e.handlers import task_data
from tests.e2e.handlers.conftest import POLL_SCALE, Clinic
from tests.support.portal_server import MockPortalAdmin

pytestmark = pytest.mark.postgres


@pytest.fixture
def database_url(postgres_url: str) -> Iterator[str]:
    yield postgres_url
    engine = db.create_engine(postgres_url)
    tables = ", ".join(f'"{t.name}"' for t in reversed(metadata.sorted_tables))
    with engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    engine.dispose()


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"trace": "off", "poll_scale": POLL_SCALE, "allow_hosts": "127.0.0.1"})


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver().running() as running:
        yield running


def test_eligibility_and_claim_on_postgresql_with_webhooks(
    system: System, portal: MockPortalAdmin, receiver: Receiver
) -> None:
    assert system.engine.dialect.name == "postgresql"
    created = system.accounts.create("Postgres Clinic", webhook_url=receiver.url)
    clinic = Clinic(system, portal, created.account)
    try:
        clinic.add_login("acme")
        check = clinic.create("check_eligibility", task_data.eligibility("acme"))
        claim = clinic.create(
            "submit_claim", task_data.claim("acme", days_ago=4), files=("clinical_notes.pdf",)
        )
        with system.webhooks.dispatcher(poll_interval=0.1).in_background():
            clinic.run(concurrency=2)
            received = receiver.wait_for(2, timeout=30)
    finally:
        clinic.close()

    checked, submitted = clinic.get(check.id), clinic.get(claim.id)
    assert checked.status == "completed", checked.notes
    assert (checked.result or {})["coverage_status"] == "active"
    assert submitted.status == "completed", submitted.notes
    [sent] = portal.submissions(payer="acme", kind="claim")
    assert (submitted.result or {})["claim_number"] == sent["identifiers"]["claim_number"]
    files = system.tasks.get(created.account.id, claim.id)[1]
    assert sorted((f.source, f.filename) for f in files) == [
        ("portal", f"claim-{sent['identifiers']['claim_number']}-confirmation.pdf"),  # printed after submit
        ("upload", "clinical_notes.pdf"),
    ]
    assert submitted.attempts == 1 and submitted.lease_owner is None

    by_task = {}
    for request in received:
        event = request.verify(created.webhook_secret)  # signed with the account's secret
        assert event["event"] == "task_finished"
        by_task[event["data"]["id"]] = event["data"]
    assert set(by_task) == {check.public_id, claim.public_id}
    assert by_task[claim.public_id]["status"] == "completed"
    assert by_task[claim.public_id]["result"]["claim_number"] == sent["identifiers"]["claim_number"]
    with session_scope(system.engine, readonly=True) as session:
        rows = session.exec(
            select(WebhookDelivery).where(col(WebhookDelivery.account_id) == created.account.id)
        )
        assert sorted(r.status for r in rows) == ["delivered", "delivered"]
    assert json.loads(received[0].body)["data"]["accountId"] == created.account.public_id
