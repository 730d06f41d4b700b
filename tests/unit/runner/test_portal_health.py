"""Portal health in the database (runner/core/portal_health.py), on both backends, with a fake clock
and no browser: what the breaker's rules do to the queue, and what it shows and sends."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import select

from handlers.errors import NeedsInput, PortalUnavailable
from runner.core.breaker import Admit, BreakerRules, PortalState, Wait
from runner.core.db import session_scope
from runner.core.metrics import FleetCollector
from runner.core.portal_faults import verdict
from runner.core.portal_health import Held, PortalHealthBook
from runner.core.queue import Lease, Queue
from runner.core.system import System
from runner.core.tables import PortalHealth, Task, WebhookDelivery

DATA = "member_id: 300059049\npatient: Jane Doe\nDOB: 1990-01-15\npayer: acme"
URL = "http://127.0.0.1:8123/acme"
KEY = "127.0.0.1:8123"
RULES = BreakerRules(threshold=3, backoff_seconds=60, max_backoff_seconds=600, alert_after_seconds=1800)
DOWN = PortalUnavailable("The Acme Health portal is down for maintenance.", retry_after=3600)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 5, 2, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


class Rig:
    def __init__(self, system: System) -> None:
        self.system = system
        self.clock = Clock()
        self.queue = Queue(system.engine, sops=system.sops, lease_seconds=30, clock=self.clock)
        self.book = PortalHealthBook(system.engine, RULES, clock=self.clock)
        self.account = system.accounts.create("Clinic", webhook_url="http://127.0.0.1:9/hook").account
        system.credentials.add(
            self.account.id, payer="acme", url=URL, username="biller", password="pw", totp_secret=None
        )

    def tasks(self, n: int) -> list[str]:
        ids = []
        for _ in range(n):
            task = self.system.tasks.create(self.account, type="check_eligibility", data=DATA, actor="test")
            with session_scope(self.system.engine) as session:
                row = session.get(Task, task.id)
                assert row is not None
                row.status, row.run_after = "pending", None
                session.add(row)
            ids.append(task.id)
        return ids

    def claim(self, n: int) -> list[Lease]:
        return [lease for lease, _ in self.queue.claim("w1", n)]

    def record(self, lease: Lease, error: BaseException | None) -> Held | None:
        with session_scope(self.system.engine) as session:
            return self.book.record(session, KEY, lease, verdict(error))

    def counted_retry(self, lease: Lease) -> None:
        """An attempt that ended in a fault while the portal was up: it counts (as the executor does)."""
        self.queue.release(lease, reason="retrying", run_after=self.clock.now + timedelta(seconds=3600))

    def held(self, lease: Lease, held: Held) -> None:
        """An attempt given back because the portal is down (as the executor does)."""
        self.queue.release(lease, reason=held.note, run_after=held.until, unused=True, held_for=KEY)

    def trip(self) -> list[str]:
        ids = self.tasks(RULES.threshold)
        leases = self.claim(RULES.threshold)
        for lease in leases[:-1]:
            assert self.record(lease, DOWN) is None
            self.counted_retry(lease)
        held = self.record(leases[-1], DOWN)
        assert held is not None
        self.held(leases[-1], held)
        return ids

    def task(self, task_id: str) -> Task:
        with session_scope(self.system.engine, readonly=True) as session:
            row = session.get(Task, task_id)
            assert row is not None
            return row

    def row(self) -> PortalHealth:
        with session_scope(self.system.engine, readonly=True) as session:
            row = session.get(PortalHealth, KEY)
            assert row is not None
            return row


@pytest.fixture
def rig(system: System) -> Rig:
    return Rig(system)


def test_a_run_of_faults_marks_the_portal_down_and_gives_its_attempts_back(rig: Rig) -> None:
    ids = rig.trip()
    row = rig.row()
    assert row.state == PortalState.DOWN and row.consecutive_faults == 3
    probe_at = rig.clock.now + timedelta(seconds=60)
    for task_id in ids:
        task = rig.task(task_id)
        assert task.status == "pending" and task.attempts == 0, task.notes
        assert task.held_for_portal == KEY
        assert task.run_after is not None and task.run_after.replace(tzinfo=UTC) == probe_at
        assert "without spending an attempt" in (task.notes or "")


def test_faults_below_the_threshold_count_as_attempts(rig: Rig) -> None:
    [task_id] = rig.tasks(1)
    [lease] = rig.claim(1)
    assert rig.record(lease, DOWN) is None
    rig.counted_retry(lease)
    assert rig.task(task_id).attempts == 1 and rig.row().state == PortalState.UP


def test_task_side_errors_reset_the_count_without_a_write_when_healthy(rig: Rig) -> None:
    rig.tasks(3)
    first, second, third = rig.claim(3)
    rig.record(first, DOWN)
    rig.record(second, NeedsInput("the member id does not match"))
    rig.record(third, DOWN)
    assert rig.row().state == PortalState.UP and rig.row().consecutive_faults == 1


def test_a_held_task_waits_and_one_worker_of_many_probes(rig: Rig) -> None:
    rig.trip()
    rig.tasks(3)
    for lease in rig.claim(10):  # new tasks are claimed, find the portal down, and go back unspent
        gate = rig.book.admit(KEY, lease)
        assert isinstance(gate, Wait) and gate.until == rig.clock.now + timedelta(seconds=60)
        rig.queue.release(lease, reason="waiting", run_after=gate.until, unused=True, held_for=KEY)
    assert rig.claim(10) == []  # every task waits for the probe time
    rig.clock.now += timedelta(seconds=60)
    leases = rig.claim(10)
    assert len(leases) == 6
    with ThreadPoolExecutor(max_workers=6) as pool:
        gates = list(pool.map(lambda lease: rig.book.admit(KEY, lease), leases))
    probes = [g for g in gates if isinstance(g, Admit)]
    assert probes == [Admit(probe=True)]
    waits = [g for g in gates if isinstance(g, Wait)]
    assert len(waits) == 5 and all(w.reason == "another task is checking it now" for w in waits)
    assert rig.row().state == PortalState.PROBING


def test_a_failed_probe_costs_nothing_and_backs_off(rig: Rig) -> None:
    rig.trip()
    rig.clock.now += timedelta(seconds=60)
    [lease, *others] = rig.claim(10)
    for other in others:
        rig.queue.release(other, reason="waiting", unused=True, held_for=KEY)
    assert rig.book.admit(KEY, lease) == Admit(probe=True)
    held = rig.record(lease, DOWN)
    assert held is not None and held.until == rig.clock.now + timedelta(seconds=120)
    rig.held(lease, held)
    assert rig.task(lease.task_id).attempts == 0
    assert rig.row().state == PortalState.DOWN and rig.row().probe_failures == 1


def test_a_dead_probe_frees_the_portal_for_the_next(rig: Rig) -> None:
    rig.trip()
    rig.clock.now += timedelta(seconds=60)
    first, second, *_ = rig.claim(10)
    assert rig.book.admit(KEY, first) == Admit(probe=True)
    assert isinstance(rig.book.admit(KEY, second), Wait)
    rig.clock.now += timedelta(seconds=31)  # the probe's worker died: its lease ran out
    assert rig.book.admit(KEY, second) == Admit(probe=True)


def test_when_the_probe_answers_every_held_task_is_due_at_once(rig: Rig) -> None:
    ids = rig.trip()
    rig.clock.now += timedelta(seconds=60)
    [probe, *others] = rig.claim(10)
    assert rig.book.admit(KEY, probe) == Admit(probe=True)
    for other in others:
        gate = rig.book.admit(KEY, other)
        assert isinstance(gate, Wait)
        rig.queue.release(other, reason="waiting", run_after=gate.until, unused=True, held_for=KEY)
    assert rig.claim(10) == []
    assert rig.record(probe, None) is None  # the portal answered
    assert rig.row().state == PortalState.UP
    resumed = {lease.task_id for lease in rig.claim(10)}
    assert resumed == set(ids) - {probe.task_id}
    assert all(rig.task(t).attempts == 1 and rig.task(t).held_for_portal is None for t in resumed)


def test_portal_down_goes_once_to_accounts_that_opted_in(rig: Rig, system: System) -> None:
    silent = system.accounts.create("Quiet clinic", webhook_url="http://127.0.0.1:9/other").account
    system.credentials.add(silent.id, payer="acme", url=URL, username="b2", password="pw", totp_secret=None)
    system.webhooks.set_events(rig.account.id, ["portal_down"])
    rig.trip()
    rig.clock.now += timedelta(seconds=1799)
    [lease] = rig.claim(1)
    assert rig.book.admit(KEY, lease) == Admit(probe=True)
    held = rig.record(lease, DOWN)
    assert held is not None
    rig.held(lease, held)
    assert deliveries(system) == []  # not down long enough yet
    rig.clock.now = held.until
    for _ in range(2):  # two probes after the delay: one event
        [lease] = rig.claim(1)
        assert rig.book.admit(KEY, lease) == Admit(probe=True)
        held = rig.record(lease, DOWN)
        assert held is not None
        rig.held(lease, held)
        rig.clock.now = held.until
    [sent] = deliveries(system)
    assert sent.account_id == rig.account.id and sent.task_id is None and sent.status == "pending"
    data = sent.payload["data"]
    assert sent.payload["event"] == "portal_down"
    assert data["portal"] == KEY and data["payers"] == ["acme"] and data["state"] == "down"
    # Held now: the tripping run's three but the probe of the moment (in flight, not counted).
    assert data["tasks_waiting"] == 2 and data["down_since"].endswith("Z")


def deliveries(system: System) -> list[WebhookDelivery]:
    with session_scope(system.engine, readonly=True) as session:
        return list(session.exec(select(WebhookDelivery).where(WebhookDelivery.event == "portal_down")).all())


def test_metrics_show_each_portal_by_key(rig: Rig, system: System) -> None:
    rig.trip()
    registry = CollectorRegistry()
    registry.register(FleetCollector(system.engine, clock=lambda: rig.clock.now + timedelta(seconds=90)))
    found = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(generate_latest(registry).decode())
        for s in family.samples
    }
    label = (("portal", KEY),)
    assert found[("sopwright_portal_up", label)] == 0
    assert found[("sopwright_portal_consecutive_faults", label)] == 3
    assert found[("sopwright_portal_down_seconds", label)] == 90
    assert found[("sopwright_portal_held_tasks", label)] == 3


def test_the_breaker_off_admits_everything(system: System) -> None:
    rig = Rig(system)
    rig.book = PortalHealthBook(system.engine, BreakerRules(threshold=0), clock=rig.clock)
    rig.tasks(5)
    for lease in rig.claim(5):
        assert rig.record(lease, DOWN) is None
        assert rig.book.admit(KEY, lease) == Admit()
    with session_scope(system.engine, readonly=True) as session:
        assert session.get(PortalHealth, KEY) is None
