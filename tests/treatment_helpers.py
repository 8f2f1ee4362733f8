"""Building blocks for treatment tests: a set to treat, a launch, result files."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from tests.conftest import run_jobs
from tests.factories import make_digitization, make_witness
from webapp.auth.models import User
from webapp.document_sets.models import DocumentSet
from webapp.extensions import db
from webapp.treatments.models import Treatment


def make_set(owner: User, digitizations: int = 2, pages: int = 2) -> DocumentSet:
    witness = make_witness(owner, "MS Treated")
    for _ in range(digitizations):
        make_digitization(witness, pages=pages)
    document_set = DocumentSet(title="Diagrams", owner_id=owner.id, witnesses=[witness])
    db.session.add(document_set)
    db.session.commit()
    return document_set


def launch(
    client: FlaskClient,
    document_set: DocumentSet,
    task: str = "regions",
    notify_email: bool = True,
    **parameters: Any,
) -> Treatment:
    """Submit the treatment form, run the launch job, return the treatment."""
    data = {
        "document_set": str(document_set.id),
        "task_type": task,
        **{f"{task}-{key}": value for key, value in parameters.items()},
    }
    if notify_email:
        data["notify_email"] = "y"
    response = client.post("/treatments/new", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[-3000:]
    run_jobs()
    db.session.expire_all()
    treatment = db.session.scalar(select(Treatment).order_by(Treatment.requested_at.desc()))
    assert treatment is not None
    return treatment


def regions_file(uid: str, boxes: int = 2, page: int = 1) -> list[dict[str, Any]]:
    """A regions result in the clean form of DESIGN 6."""
    return [
        {
            "source": f"{uid}_{page:04d}",
            "width": 400,
            "height": 300,
            "doc_uid": uid,
            "crops": [
                {
                    "crop_id": f"{uid}_{page:04d}_{10 + 50 * i},20,40,30",
                    "confidence": 0.9,
                    "absolute": {
                        "x1": 10 + 50 * i,
                        "y1": 20,
                        "x2": 50 + 50 * i,
                        "y2": 50,
                        "width": 40,
                        "height": 30,
                    },
                    "relative": {"x1": 0.1, "y1": 0.1, "x2": 0.2, "y2": 0.2},
                    "class": {"id": 0, "label": "diagram"},
                }
                for i in range(boxes)
            ],
        }
    ]


def set_of(treatment: Treatment) -> DocumentSet:
    db.session.expire_all()
    row = db.session.get(Treatment, treatment.id)
    assert row is not None
    assert row.document_set is not None
    return row.document_set
