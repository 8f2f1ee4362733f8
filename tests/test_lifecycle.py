"""The one state machine of all work (DESIGN 3)."""

from __future__ import annotations

import pytest

from webapp.lifecycle import Status, WorkState


class Work(WorkState):
    def __init__(self, status: Status = Status.PENDING) -> None:
        self.status = status
        self.attempts = 0
        self.message = ""
        self.error = ""
        self.started_at = None
        self.finished_at = None


def test_work_moves_forwards_to_an_end() -> None:
    work = Work()
    assert work.move_to(Status.STARTED, "accepted")
    assert work.started_at is not None
    assert work.move_to(Status.IN_PROGRESS)
    assert not work.move_to(Status.STARTED)  # never backwards
    assert work.move_to(Status.SUCCESS)
    assert work.finished_at is not None
    assert work.message == "accepted"


@pytest.mark.parametrize("end", [Status.SUCCESS, Status.ERROR, Status.CANCELLED])
def test_terminal_states_are_final(end: Status) -> None:
    work = Work(end)
    for target in Status:
        assert not work.move_to(target)
    assert not work.fail("again")
    assert work.status == end


def test_retrying_counts_attempts_and_may_start_afterwards() -> None:
    work = Work()
    assert work.move_to(Status.RETRYING)
    assert work.move_to(Status.RETRYING)
    assert work.attempts == 2
    assert work.move_to(Status.STARTED)
    assert not work.move_to(Status.RETRYING)


def test_any_state_may_fail_with_a_readable_message() -> None:
    for start in (Status.PENDING, Status.STARTED, Status.IN_PROGRESS, Status.WAITING):
        work = Work(start)
        assert work.fail("  ")
        assert work.error == "The work failed for an unknown reason."
        assert work.status == Status.ERROR


def test_labels_are_for_people() -> None:
    assert Status.IN_PROGRESS.label == "In progress"
    assert Status.CANCELLED.is_terminal
    assert not Status.WAITING.is_terminal
