"""The status vocabulary shared by all work (DESIGN 3)."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    PENDING = "PENDING"
    STARTED = "STARTED"
    IN_PROGRESS = "IN_PROGRESS"
    RETRYING = "RETRYING"
    WAITING = "WAITING"
    SUCCESS = "SUCCESS"
    ERROR = "ERROR"
    CANCELLED = "CANCELLED"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()

    @property
    def is_terminal(self) -> bool:
        return self in {Status.SUCCESS, Status.ERROR, Status.CANCELLED}
