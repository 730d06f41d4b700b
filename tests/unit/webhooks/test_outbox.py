"""The outbox row is written with the status change, in the same transaction, on both backends."""

from __future__ import annotations

import pytest
from webhook_clinic import Clinic

from runner.core.db import session_scope
from runner.core.errors import InvalidRequest
from runner.core.public import task_json
from runner.core.states import TaskStatus
from runner.core.system import System
from runner.core.tables import Task
from runner.core.transitions import move
from runner.core.webhooks.events import DeliveryStatus, WebhookEvent
from runner.core.webhooks.outbox import NO_URL


@pytest.mark.parametrize("final", [TaskStatus.COMPLETED, TaskStatus.COMPLETED_WITH_ISSUES, TaskStatus.FAILED])
def test_each_final_state_writes_one_task_finished_row(clinic: Clinic, final: TaskStatus) -> None:
    task_id = clinic.task()
    clinic.finish(task_id, final)
    [delivery] = clinic.deliveries()
    assert (delivery.event, delivery.status, delivery.task_id) == ("task_finished", "pending", task_id)
    assert delivery.payload["event"] == "task_finished"
    assert delivery.payload["data"]["status"] == final.value
    assert delivery.payload["data"]["id"] == delivery.task_public_id == clinic.public_task_id(task_id)


def test_the_data_is_the_task_exactly_as_get_returns_it(system: System, clinic: Clinic) -> None:
    task_id = clinic.task()
    # Fields set after `move` in the same transaction are in the snapshot (it is taken at commit).
    clinic.finish(task_id, TaskStatus.COMPLETED, notes="Coverage active.", result={"coverage": "active"})
    [delivery] = clinic.deliveries()
    assert delivery.payload["data"] == task_json(*system.tasks.get(clinic.id, task_id))
    assert delivery.payload["data"]["notes"] == "Coverage active."
    assert delivery.payload["created_at"].endswith("Z")


def test_a_rolled_back_move_leaves_no_row(system: System, clinic: Clinic) -> None:
    task_id = clinic.task()

    def fail_then_crash() -> None:
        with session_scope(system.engine) as session:
            task = session.get(Task, task_id)
            assert task is not None
            move(session, task, TaskStatus.FAILED, actor="test", action="fail")
            session.flush()
            raise RuntimeError("crash before commit")

    with pytest.raises(RuntimeError):
        fail_then_crash()
    assert clinic.deliveries() == []
    assert clinic.task_status(task_id) == "running"


def test_non_final_moves_write_nothing_by_default(clinic: Clinic) -> None:
    task_id = clinic.task()
    clinic.finish(task_id, TaskStatus.WAITING_FOR_INPUT)
    other = clinic.task()
    clinic.finish(other, TaskStatus.PENDING_REVIEW)
    assert clinic.deliveries() == []


def test_optional_events_when_subscribed(system: System, clinic: Clinic) -> None:
    system.webhooks.set_events(clinic.id, ["task_waiting_for_input", "task_pending_review"])
    waiting, review = clinic.task(), clinic.task()
    clinic.finish(waiting, TaskStatus.WAITING_FOR_INPUT)
    clinic.finish(waiting, TaskStatus.WAITING_FOR_INPUT)  # still waiting: no second event
    clinic.finish(review, TaskStatus.PENDING_REVIEW)
    events = sorted((d.event, d.task_id) for d in clinic.deliveries())
    assert events == sorted([("task_waiting_for_input", waiting), ("task_pending_review", review)])


def test_unknown_events_are_refused(system: System, clinic: Clinic) -> None:
    with pytest.raises(InvalidRequest, match="task_pending_review"):
        system.webhooks.set_events(clinic.id, ["task_started"])
    assert system.webhooks.set_events(clinic.id, ["task_finished"]) == []


def test_without_a_webhook_url_the_row_is_written_as_skipped(system: System) -> None:
    bare = Clinic(system, "No URL Clinic", None)
    task_id = bare.task()
    bare.finish(task_id, TaskStatus.FAILED)
    [delivery] = bare.deliveries()
    assert (delivery.event, delivery.status, delivery.last_error) == (
        WebhookEvent.TASK_FINISHED.value,
        DeliveryStatus.SKIPPED.value,
        NO_URL,
    )
    assert delivery.next_attempt_at is None


def test_the_tasks_service_cancel_writes_the_row(system: System, clinic: Clinic) -> None:
    task_id = clinic.task(TaskStatus.PENDING)
    system.tasks.cancel(clinic.id, task_id, reason="duplicate", actor="test")
    [delivery] = clinic.deliveries()
    assert delivery.payload["data"]["status"] == "failed"
    assert delivery.payload["data"]["notes"] == "Cancelled: duplicate"
