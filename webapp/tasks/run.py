"""What a task's `run` works through: progress, messages, artifacts, children, cancel.

Every write is one conditional UPDATE of the task's row that also renews the worker's lease:
it changes nothing once the task has ended (a cancel, the clock), and then raises
TaskCancelled, so that a cancelled task stops at its next call and never overwrites the
cancel. The status itself moves only through the lifecycle.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value

from webapp.columns import utcnow
from webapp.extensions import db
from webapp.lifecycle import TERMINAL, Status, transition
from webapp.tasks.base import TaskCancelled
from webapp.tasks.models import Task, TaskArtifact, TaskEvent

ARTIFACTS = "artifacts"
# Progress is published at most this often (each move and message is published at once).
PUBLISH_EVERY = 0.25


def artifact_folder(task_id: str) -> Path:
    return Path(current_app.config["STORAGE_DIR"]) / ARTIFACTS / task_id


class TaskRun:
    def __init__(self, task: Task) -> None:
        self.task = task
        self.children: list[Task] = []
        self._published = 0.0
        # Known here once moved, so that a write need not read the status back.
        self._in_progress = task.state is Status.IN_PROGRESS

    @property
    def owner(self) -> Any:
        return self.task.owner

    def _write(self, publish: bool = False, **values: Any) -> None:
        """Change the task's row while it runs; TaskCancelled once it has ended."""
        now = utcnow()
        values = {**values, "claimed_at": now, "updated_at": now}
        result = db.session.execute(
            update(Task)
            .where(Task.id == self.task.id, Task.status.not_in([s.value for s in TERMINAL]))
            .values(values),
            execution_options={"synchronize_session": False},
        )
        if not getattr(result, "rowcount", 0):
            db.session.rollback()
            raise TaskCancelled
        db.session.commit()
        for name, value in values.items():
            set_committed_value(self.task, name, value)
        if not self._in_progress:
            transition(self.task, Status.IN_PROGRESS)
            self._in_progress = True
        elif publish or time.monotonic() - self._published >= PUBLISH_EVERY:
            from webapp.tasks.service import publish_task

            publish_task(self.task)
        self._published = time.monotonic()

    def check_cancelled(self) -> None:
        """Raise TaskCancelled if the task was cancelled: call it between steps."""
        self._write()

    def set_target(self, target: int) -> None:
        self._write(target=max(0, target))

    def advance(self, by: int = 1) -> None:
        self._write(current=self.task.current + by)

    def set_progress(self, current: int) -> None:
        self._write(current=current)

    def set_sub_state(self, text: str) -> None:
        self._write(sub_state=text[:200])

    def say(self, text: str) -> None:
        """A message in the task's history, shown as its latest news."""
        db.session.add(TaskEvent(task_id=self.task.id, kind="message", text=text))
        self._write(publish=True, message=text)

    def _artifact(self, **fields: Any) -> TaskArtifact:
        artifact = TaskArtifact(task_id=self.task.id, **fields)
        db.session.add(artifact)
        self._write(publish=True)
        return artifact

    def add_file(self, name: str, source: bytes | Path, media_type: str) -> TaskArtifact:
        """A file for the user to download, kept with the task until it is deleted."""
        folder = artifact_folder(self.task.id)
        folder.mkdir(parents=True, exist_ok=True)
        safe = Path(name).name or "file"
        target = folder / safe
        if isinstance(source, bytes):
            target.write_bytes(source)
        else:
            shutil.move(source, target)
        relative = target.relative_to(Path(current_app.config["STORAGE_DIR"]))
        return self._artifact(
            kind="file",
            name=safe,
            media_type=media_type,
            path=str(relative),
            size=target.stat().st_size,
        )

    def add_url(self, name: str, url: str) -> TaskArtifact:
        return self._artifact(kind="url", name=name[:200], url=url)

    def add_text(self, name: str, text: str) -> TaskArtifact:
        return self._artifact(
            kind="text", name=name[:200], text=text, media_type="text/plain", size=len(text)
        )

    def become_container(self) -> None:
        """Once the run has started its children: from now on its state is theirs."""
        self._write(publish=True, container=True, target=len(self.children), current=0)

    def start_child(self, name: str, inputs: dict[str, Any]) -> Task:
        """A child task: this task becomes a container, whose state is its children's. The
        children are queued once the run has started them all, so that none can end the
        container before its last sibling exists."""
        from webapp.tasks.service import start_task

        child = start_task(self.owner, name, inputs, parent=self.task, queue=False).task
        self.children.append(child)
        return child
