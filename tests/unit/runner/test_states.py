import pytest

from runner.core.errors import InvalidTransition
from runner.core.states import FINAL_STATUSES, TaskStatus
from runner.core.transitions import TRANSITIONS, can_transition, check_transition


def test_exactly_serenes_eight_statuses() -> None:
    assert [s.value for s in TaskStatus] == [
        "pending",
        "dispatching",
        "running",
        "waiting_for_input",
        "pending_review",
        "completed",
        "completed_with_issues",
        "failed",
    ]


def test_final_states_have_no_way_out() -> None:
    for status in FINAL_STATUSES:
        assert TRANSITIONS[status] == frozenset()
        assert status.is_final


@pytest.mark.parametrize("status", [s for s in TaskStatus if not s.is_final])
def test_every_open_status_can_be_cancelled(status: TaskStatus) -> None:
    assert can_transition(status, TaskStatus.FAILED)


def test_refusal_says_why() -> None:
    with pytest.raises(InvalidTransition, match=r"Cannot cancel: the task is already final \(completed\)"):
        check_transition(TaskStatus.COMPLETED, TaskStatus.FAILED, action="cancel")


def test_pending_cannot_jump_to_completed() -> None:
    assert not can_transition(TaskStatus.PENDING, TaskStatus.COMPLETED)
    assert can_transition(TaskStatus.PENDING, TaskStatus.DISPATCHING)
    assert can_transition(TaskStatus.DISPATCHING, TaskStatus.RUNNING)
