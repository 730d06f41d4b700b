"""The core services wired together from settings: built once at the edge, passed down."""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa

from runner.core import db
from runner.core.accounts import Accounts
from runner.core.artifacts import ArtifactStore
from runner.core.batches import Batches
from runner.core.credentials import PortalCredentials
from runner.core.crypto import SecretBox
from runner.core.destinations import AddressGuard
from runner.core.errors import UnsafeDestination, UnsafePortalUrl
from runner.core.files import FileStore, UploadLimits
from runner.core.followups import FollowUps
from runner.core.groupcommit import GroupCommit
from runner.core.operators import Operators
from runner.core.portal_health import PortalHealthBook
from runner.core.queue import Queue
from runner.core.schedules import Schedules
from runner.core.settings import Settings
from runner.core.sopbook import SopBook
from runner.core.tasks import Tasks
from runner.core.trajectories import Trajectories
from runner.core.webhooks.errors import UnsafeWebhookUrl
from runner.core.webhooks.service import Webhooks
from runner.core.webhooks.tester import WebhookTester
from runner.core.webhooks.wakeup import Wakeup, ring_on_commit
from sops.loader import SopLibrary

log = logging.getLogger(__name__)

TEST_TIMEOUT = 5.0  # seconds a test event (POST /webhooks/test) waits for the endpoint, at most


@dataclass
class System:
    settings: Settings
    engine: sa.Engine
    destinations: AddressGuard  # the destination policy; webhooks and portal logins use it too
    box: SecretBox
    accounts: Accounts
    tasks: Tasks
    batches: Batches
    schedules: Schedules
    sops: SopBook
    files: FileStore
    upload_limits: UploadLimits
    webhooks: Webhooks
    webhook_tester: WebhookTester
    credentials: PortalCredentials
    queue: Queue
    artifacts: ArtifactStore
    trajectories: Trajectories
    operators: Operators
    portal_health: PortalHealthBook  # each portal's circuit breaker
    follow_ups: FollowUps  # SOP follow-ups: created by the executor, checked now by the API

    def close(self) -> None:
        self.webhook_tester.close()
        self.engine.dispose()


def build(
    settings: Settings, *, library: SopLibrary | None = None, portal_names: Mapping[str, str] | None = None
) -> System:
    """Open the database (the embedded SQLite default migrates itself) and wire the services.

    `portal_names` are the portal registry's display names by key (`handlers.portals.portal_names`,
    given by the edge: the API never imports the handlers); a login is named after its portal."""
    data_dir = settings.ensure_data_dir()
    url = settings.resolved_database_url()
    engine = db.open_database(url, auto_upgrade=url.startswith("sqlite"))
    box = SecretBox.load(settings.secret_key, data_dir)
    sops = SopBook(engine, library or SopLibrary.builtin())
    files = FileStore(data_dir / "files")
    if settings.webhook_allow_hosts:
        log.warning(
            "SOPWRIGHT_WEBHOOK_ALLOW_HOSTS is a former name: it now also lets portal logins and the "
            "browser reach its hosts; rename it SOPWRIGHT_ALLOW_HOSTS"
        )
    destinations = AddressGuard.from_setting(settings.allowed_hosts())
    guard = destinations.for_use("webhook", UnsafeWebhookUrl, require_https=settings.production)
    portal_guard = destinations.for_use("portal", UnsafePortalUrl)
    artifacts = ArtifactStore(data_dir / "artifacts")
    wakeup = Wakeup()  # this process's dispatchers, rung after each commit that makes a delivery due
    ring_on_commit(engine, wakeup)
    accounts = Accounts(
        engine, box, url_check=guard.check_url, key_cache_seconds=settings.api_key_cache_seconds
    )
    webhooks = Webhooks(engine, accounts, guard, timeout=settings.webhook_timeout, wakeup=wakeup)
    credentials = PortalCredentials(engine, box, guard=portal_guard, names=portal_names)
    tasks = Tasks(
        engine,
        files,
        sops,
        credentials,
        max_data_chars=settings.max_data_chars,
        timely_filing_days=settings.timely_filing_days,
        group=GroupCommit(engine) if db.is_sqlite(engine) else None,
    )
    batches = Batches(engine, tasks, credentials, max_data_chars=settings.max_data_chars)
    source_guard = destinations.for_use(
        "schedule source", UnsafeDestination, require_https=settings.production
    )
    return System(
        settings=settings,
        engine=engine,
        destinations=destinations,
        box=box,
        accounts=accounts,
        tasks=tasks,
        batches=batches,
        schedules=Schedules(
            engine,
            batches,
            source_guard,
            max_bytes=settings.batch_max_bytes,
            max_rows=settings.batch_max_rows,
            owner=f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}",
        ),
        sops=sops,
        files=files,
        upload_limits=UploadLimits(
            max_file_bytes=settings.max_file_bytes,
            max_files=settings.max_files,
            max_total_bytes=settings.max_total_bytes,
        ),
        webhooks=webhooks,
        webhook_tester=WebhookTester(webhooks, timeout=min(TEST_TIMEOUT, settings.webhook_timeout)),
        credentials=credentials,
        queue=Queue(engine, sops=sops, lease_seconds=settings.lease_seconds),
        artifacts=artifacts,
        trajectories=Trajectories(engine, artifacts),
        operators=Operators(engine),
        portal_health=PortalHealthBook(engine, settings.breaker_rules()),
        follow_ups=FollowUps(engine, tasks),
    )
