"""task_number is a per-account sequence: no gaps, no duplicates, even under concurrent creates."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from runner.core.errors import UnknownTaskType
from runner.core.system import System
from runner.core.tasks import TaskFilter

DATA = "member_id: 300059049\npatient: Jane Doe\nDOB: 1990-01-15\nservice_date: 2025-03-20"


def test_fifty_concurrent_creates_number_one_to_fifty(system: System) -> None:
    account = system.accounts.create("Clinic A").account
    other = system.accounts.create("Clinic B").account

    def create(i: int) -> tuple[str, int]:
        owner = account if i % 5 else other
        task = system.tasks.create(owner, type="submit_claim", data=DATA, actor="test")
        return task.account_id, task.task_number

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(create, range(60)))

    numbers = sorted(n for a, n in results if a == account.id)
    other_numbers = sorted(n for a, n in results if a == other.id)
    assert numbers == list(range(1, 49))
    assert other_numbers == list(range(1, 13))


def test_a_refused_create_uses_no_number(system: System) -> None:
    account = system.accounts.create("Clinic A").account
    system.tasks.create(account, type="submit_claim", data=DATA, actor="test")
    with pytest.raises(UnknownTaskType):
        system.tasks.create(account, type="nope", data=DATA, actor="test")
    assert system.tasks.create(account, type="submit_claim", data=DATA, actor="test").task_number == 2


def test_concurrent_creates_with_one_idempotency_key_make_one_task_and_spare_the_others(
    system: System,
) -> None:
    # On SQLite these creates share write transactions (group commit) and look their key up inside
    # them: a key stored by an earlier create answers as a retry; one an earlier create of the same
    # group has not written yet fails the group's insert, the group runs again one create at a
    # time, and the duplicate answers as a retry while its neighbours are stored.
    account = system.accounts.create("Clinic A").account
    barrier = threading.Barrier(12)

    def create(i: int) -> tuple[str | None, str]:
        key = "same" if i % 2 else f"own-{i}"
        barrier.wait(timeout=30)
        task = system.tasks.create(account, type="submit_claim", data=DATA, idempotency_key=key, actor="t")
        return task.idempotency_key, task.id

    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(create, range(12)))

    assert len({task_id for key, task_id in results if key == "same"}) == 1
    assert len({task_id for _key, task_id in results}) == 7  # the shared one and six of their own
    page = system.tasks.search(account.id, TaskFilter(), limit=100, cursor=None)
    assert sorted(t.task_number for t in page.tasks) == list(range(1, 8))
