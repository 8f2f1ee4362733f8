"""An artifact as its user takes it away: a file as a download, a text as text, a URL as a
redirect to it. The API and the task's page answer with the same."""

from __future__ import annotations

from pathlib import Path

from flask import Response, abort, current_app, redirect, send_file
from flask.typing import ResponseReturnValue

from webapp.extensions import db
from webapp.tasks.models import Task, TaskArtifact


def artifact_of(task: Task, artifact_id: int) -> TaskArtifact:
    """The task's artifact of that id; 404 for another task's."""
    found = db.session.get(TaskArtifact, artifact_id)
    if found is None or found.task_id != task.id:
        abort(404, "No such artifact of this task.")
    return found


def artifact_response(artifact: TaskArtifact) -> ResponseReturnValue:
    if artifact.kind == "url":
        return redirect(artifact.url, code=303)
    if artifact.kind == "text":
        return Response(artifact.text, mimetype="text/plain")
    path = Path(current_app.config["STORAGE_DIR"]) / artifact.path
    if not path.is_file():
        abort(404, "This artifact's file is gone.")
    return send_file(
        path,
        mimetype=artifact.media_type or "application/octet-stream",
        as_attachment=True,
        download_name=artifact.name,
    )
