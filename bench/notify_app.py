"""The app as the Procfile serves it, plus the baselines bench/notify.py and bench/api.py
compare against."""

from __future__ import annotations

import json

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy import text

from webapp import create_app
from webapp.extensions import csrf, db
from webapp.security import public
from webapp.treatments.signing import signature_is_valid

bp = Blueprint("bench", __name__, url_prefix="/bench")


def _verified() -> bytes | None:
    raw = request.get_data()
    json.loads(raw)
    headers = {key.lower(): value for key, value in request.headers.items()}
    return raw if signature_is_valid(raw, headers) else None


@bp.post("/verify")
@public()
@csrf.exempt
def verify_only() -> ResponseReturnValue:
    """Baseline 1: parse and verify, nothing else."""
    return (jsonify(ok=True), 200) if _verified() else (jsonify(ok=False), 403)


@bp.post("/insert")
@public()
@csrf.exempt
def verify_and_insert() -> ResponseReturnValue:
    """Baseline 2: parse, verify and insert one row."""
    raw = _verified()
    if raw is None:
        return jsonify(ok=False), 403
    db.session.execute(text("INSERT INTO bench_rows (body) VALUES (:body)"), {"body": raw.decode()})
    db.session.commit()
    return jsonify(ok=True), 200


@bp.post("/row")
@public()
@csrf.exempt
def insert_row() -> ResponseReturnValue:
    """The task API's baseline: parse the JSON body and insert one row."""
    raw = request.get_data()
    json.loads(raw)
    db.session.execute(text("INSERT INTO bench_rows (body) VALUES (:body)"), {"body": raw.decode()})
    db.session.commit()
    return jsonify(ok=True), 201


app = create_app()
app.register_blueprint(bp)
