"""A task as the API, the live stream and the JS client describe it: one description."""

from __future__ import annotations

from typing import Any

from flask import url_for

from webapp.tasks.models import Task, TaskArtifact
from webapp.tasks.registry import background_tasks


def artifact_json(artifact: TaskArtifact) -> dict[str, Any]:
    return {
        "id": artifact.id,
        "kind": artifact.kind,
        "name": artifact.name,
        "media_type": artifact.media_type,
        "size": artifact.size,
        "url": artifact.url or None,
        "text": artifact.text if artifact.kind == "text" else None,
        "download": url_for(
            "api_tasks.artifact", task_id=artifact.task_id, artifact_id=artifact.id, _external=True
        ),
        "created_at": artifact.created_at,
    }


def task_json(task: Task) -> dict[str, Any]:
    task_class = background_tasks().get(task.name)
    return {
        "id": task.id,
        "name": task.name,
        "label": task_class.label if task_class else task.name,
        "status": task.status,
        "status_label": task.state.label,
        "sub_state": task.sub_state,
        "message": task.message,
        "error": task.error,
        "owner": task.owner.email,
        "inputs": task.inputs,
        "outputs": task.outputs,
        "progress": {
            "current": task.current,
            "target": task.target,
            "fraction": task.fraction_done,
            "text": task.progress_text,
        },
        "eta_seconds": task.eta_seconds,
        "attempts": task.attempts,
        "parent": task.parent_id,
        "container": task.container,
        "children": [child.id for child in task.children] if task.container else [],
        "artifacts": [artifact_json(a) for a in task.artifacts],
        "requested_at": task.requested_at,
        "started_at": task.started_at,
        "finished_at": task.finished_at,
        "callback_url": task.callback_url,
        "page": url_for("tasks.detail", task_id=task.id, _external=True),
    }
