"""Researchers correct region sets: delete a false region, draw a missing one, adjust a box,
reset to the machine's output. The corrections are kept apart; everything that reads regions
reads them corrected."""

from __future__ import annotations

import csv
import io
from functools import partial
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.concurrency import race
from tests.conftest import AuthActions, json_body
from tests.test_viewers import _regions
from tests.treatment_helpers import make_set
from webapp.auth.models import User
from webapp.document_sets.models import DocumentSet
from webapp.extensions import db
from webapp.task_modules.regions import corrections
from webapp.task_modules.regions.keys import crop_list_key
from webapp.task_modules.regions.models import Region, RegionCorrection, RegionSet
from webapp.task_modules.regions_source import region_documents
from webapp.treatments.models import Treatment


@pytest.fixture
def region_set(logged_in: User) -> RegionSet:
    """Two machine regions on the first page of the first of two digitizations."""
    treatment = _regions(logged_in, make_set(logged_in))
    found = db.session.scalars(
        select(RegionSet).where(RegionSet.treatment_id == treatment.id).order_by(RegionSet.id)
    ).first()
    assert found is not None
    return found


def _machine(region_set: RegionSet) -> list[Region]:
    return list(
        db.session.scalars(
            select(Region).where(Region.region_set_id == region_set.id).order_by(Region.x)
        )
    )


def _post(client: FlaskClient, region_set: RegionSet, **form: Any) -> Any:
    return client.post(f"/regions/{region_set.ref}/pages/1/edit", data=form)


def _crops(client: FlaskClient, region_set: RegionSet) -> list[str]:
    key = crop_list_key(region_set.ref)
    return sorted(json_body(client.get(f"/regions/{region_set.ref}/list?key={key}")))


def test_corrections_show_everywhere_regions_are_read_and_the_machine_output_stays(
    client: FlaskClient, region_set: RegionSet
) -> None:
    first, second = _machine(region_set)
    page_ref = first.page.ref
    assert _crops(client, region_set) == [f"{page_ref}_10,20,50,40", f"{page_ref}_70,20,50,40"]
    editor = client.get(f"/regions/{region_set.ref}/pages/1/edit").get_data(as_text=True)
    assert editor.count("data-region=") == 2

    assert _post(client, region_set, action="delete", region=f"r{first.id}").status_code == 302
    adjusted = _post(
        client,
        region_set,
        action="adjust",
        region=f"r{second.id}",
        x=60,
        y=10,
        w=80,
        h=70,
        label="figure",
    )
    assert adjusted.status_code == 302
    drawn = _post(client, region_set, action="draw", x=5, y=100, w=30, h=30, label="initial")
    assert drawn.status_code == 302

    expected = [f"{page_ref}_5,100,30,30", f"{page_ref}_60,10,80,70"]
    assert _crops(client, region_set) == expected
    # The machine's output is as it came.
    assert [(r.x, r.y, r.w, r.h) for r in _machine(region_set)] == [
        (10, 20, 50, 40),
        (70, 20, 50, 40),
    ]
    treatment = db.session.get(Treatment, region_set.treatment_id)
    assert treatment is not None
    viewer = client.get(f"/treatments/{treatment.id}/results").get_data(as_text=True)
    assert viewer.count("<rect ") == 2 + 2  # this set's two as corrected, and the other set's
    assert 'x="60" y="10" width="80" height="70"' in viewer
    assert "3 corrections by researchers" in viewer
    rows = list(
        csv.DictReader(
            io.StringIO(client.get(f"/treatments/{treatment.id}/export/csv").get_data(as_text=True))
        )
    )
    # Top to bottom on the page.
    assert [
        (r["crop_id"], r["label"], r["correction"])
        for r in rows
        if r["region_set"] == region_set.ref
    ] == [
        (expected[1], "figure", "adjusted"),
        (expected[0], "initial", "drawn"),
    ]
    annotations = json_body(client.get(f"/regions/{region_set.ref}/annotations/1.json"))
    assert sorted(a["target"].rsplit("=", 1)[1] for a in annotations["items"]) == [
        "5,100,30,30",
        "60,10,80,70",
    ]
    listed = json_body(client.get(f"/regions/{region_set.ref}/lists/1.json"))
    assert sorted(a["resource"]["chars"] for a in listed["resources"]) == [
        "figure (adjusted)",
        "initial (drawn)",
    ]
    # A later treatment reads the corrected set: the set with no region left is not sent.
    document_set = db.session.get(DocumentSet, treatment.document_set_id)
    assert document_set is not None
    assert [
        d["uid"] for d in region_documents(document_set, {"regions_treatment": treatment.id})
    ] == [
        rs.ref
        for rs in db.session.scalars(
            select(RegionSet).where(RegionSet.treatment_id == treatment.id).order_by(RegionSet.id)
        )
    ]

    # Back to the machine's output.
    reset = client.post(f"/regions/{region_set.ref}/reset")
    assert reset.status_code == 302
    assert _crops(client, region_set) == [f"{page_ref}_10,20,50,40", f"{page_ref}_70,20,50,40"]
    assert db.session.scalar(select(func.count()).select_from(RegionCorrection)) == 0


def test_a_drawn_region_deleted_is_gone_and_a_page_resets_alone(
    client: FlaskClient, region_set: RegionSet
) -> None:
    _post(client, region_set, action="draw", x=1, y=1, w=5, h=5)
    drawn = db.session.scalar(select(RegionCorrection))
    assert drawn is not None
    assert _post(client, region_set, action="delete", region=f"c{drawn.id}").status_code == 302
    assert db.session.scalar(select(func.count()).select_from(RegionCorrection)) == 0
    first, _ = _machine(region_set)
    _post(client, region_set, action="delete", region=f"r{first.id}")
    client.post(f"/regions/{region_set.ref}/reset", data={"page": "1"})
    assert len(_crops(client, region_set)) == 2


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"action": "draw", "x": "1", "y": "1", "w": "5000", "h": "5"}, "inside the page"),
        ({"action": "draw", "x": "-1", "y": "1", "w": "5", "h": "5"}, "whole number"),
        ({"action": "draw", "x": "1.5", "y": "1", "w": "5", "h": "5"}, "whole number"),
        ({"action": "draw", "x": "1", "y": "1", "w": "0", "h": "5"}, "at least one pixel"),
        (
            {"action": "draw", "x": "1", "y": "1", "w": "5", "h": "5", "label": "x" * 101},
            "at most 100",
        ),
        (
            {"action": "adjust", "region": "r999999", "x": "1", "y": "1", "w": "5", "h": "5"},
            "No such region",
        ),
        ({"action": "delete", "region": "zz"}, "No such region"),
        ({"action": "delete", "region": "c" + "9" * 30}, "No such region"),
        ({"action": "explode"}, "Choose to draw"),
    ],
)
def test_bad_corrections_are_refused_with_a_reason_and_keep_what_was_typed(
    client: FlaskClient, region_set: RegionSet, form: dict[str, str], message: str
) -> None:
    response = _post(client, region_set, **form)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html
    if form["action"] == "draw":
        assert f'name="x" value="{form["x"]}"' in html
    assert db.session.scalar(select(func.count()).select_from(RegionCorrection)) == 0


def test_a_region_of_another_set_cannot_be_corrected_through_this_one(
    client: FlaskClient, logged_in: User, region_set: RegionSet
) -> None:
    other = db.session.scalars(
        select(RegionSet).where(
            RegionSet.treatment_id == region_set.treatment_id, RegionSet.id != region_set.id
        )
    ).first()
    assert other is not None
    _, theirs = _regions_of(other)
    assert _post(client, region_set, action="delete", region=f"r{theirs}").status_code == 400


def _regions_of(region_set: RegionSet) -> tuple[int, int]:
    ids = [r.id for r in _machine(region_set)]
    return ids[0], ids[1]


def test_only_the_owner_or_an_admin_corrects_and_others_see_nothing(
    client: FlaskClient, logged_in: User, other_user: User, auth: AuthActions, region_set: RegionSet
) -> None:
    first, _ = _regions_of(region_set)
    auth.logout()
    auth.login(other_user)
    for response in (
        client.get(f"/regions/{region_set.ref}/pages/1/edit"),
        _post(client, region_set, action="delete", region=f"r{first}"),
        client.post(f"/regions/{region_set.ref}/reset"),
    ):
        assert response.status_code == 404
    treatment = db.session.get(Treatment, region_set.treatment_id)
    assert treatment is not None
    assert treatment.document_set is not None
    treatment.document_set.visibility = "public"
    db.session.commit()
    assert client.get(f"/regions/{region_set.ref}/pages/1/edit").status_code == 403
    assert _post(client, region_set, action="delete", region=f"r{first}").status_code == 403
    assert db.session.scalar(select(func.count()).select_from(RegionCorrection)) == 0


@pytest.mark.parametrize("second", ["adjust", "delete"])
def test_two_first_corrections_of_one_region_at_once_both_land(
    app: Flask, logged_in: User, region_set: RegionSet, second: str
) -> None:
    """Two tabs correct the same machine region at the same moment: neither fails, one
    correction is kept, and it is one of the two."""
    first = _machine(region_set)[0]
    set_id, key, user_id = region_set.id, f"r{first.id}", logged_in.id

    def correct(action: str) -> None:
        target = db.session.get(RegionSet, set_id)
        author = db.session.get(User, user_id)
        assert target is not None
        assert author is not None
        if action == "adjust":
            corrections.adjust(target, author, key, {"x": 1, "y": 2, "w": 3, "h": 4})
        else:
            corrections.remove(target, author, key)

    race(app, partial(correct, "adjust"), partial(correct, second))
    db.session.expire_all()
    kept = db.session.scalars(
        select(RegionCorrection).where(RegionCorrection.region_id == first.id)
    ).all()
    assert len(kept) == 1
    assert (kept[0].x, kept[0].y, kept[0].w, kept[0].h) == (1, 2, 3, 4)
    if second == "adjust":
        assert not kept[0].deleted
