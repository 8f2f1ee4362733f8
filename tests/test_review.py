"""Reviewing similarity: marks per researcher, filtered and exported, matches proposed by
transitivity, and clusters of recurring figures."""

from __future__ import annotations

import csv
import io
import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.conftest import AuthActions, make_user
from tests.test_viewers import _pairs
from tests.treatment_helpers import make_set
from webapp.auth.models import User
from webapp.extensions import db
from webapp.task_modules.similarity.models import PairMark
from webapp.treatments.models import Treatment

A, B = "wit1_man1_0001_0,0,10,10", "wit1_man2_0001_0,0,10,10"
C, D = "wit1_man1_0002_5,5,10,10", "wit1_man2_0002_1,1,10,10"
HTMX = {"HX-Request": "true"}


@pytest.fixture
def pairs(logged_in: User) -> Treatment:
    """A-B 0.95, A-C 0.7, B-D 0.4."""
    return _pairs(logged_in, make_set(logged_in))


def _mark(client: FlaskClient, treatment: Treatment, a: str, b: str, mark: str, **headers: str):  # type: ignore[no-untyped-def]
    return client.post(
        f"/similarity/{treatment.id}/marks", data={"a": a, "b": b, "mark": mark}, headers=headers
    )


def _shown(client: FlaskClient, url: str) -> list[str]:
    return re.findall(r"<strong>(\d\.\d{3})</strong>", client.get(url).get_data(as_text=True))


def test_a_mark_is_stored_per_user_shown_in_place_and_filtered_on(
    client: FlaskClient, pairs: Treatment, logged_in: User
) -> None:
    fragment = _mark(client, pairs, B, A, "exact", **HTMX)  # either order
    assert fragment.status_code == 200
    html = fragment.get_data(as_text=True)
    assert '<div class="pair-marks">' in html
    assert 'value="exact" class="small mark mark-exact" aria-pressed="true"' in html
    assert "Ada: Exact match" in html
    without_js = _mark(client, pairs, A, C, "no")
    assert without_js.status_code == 303
    (first, _) = db.session.scalars(select(PairMark).order_by(PairMark.id)).all()
    assert (first.a, first.b, first.mark, first.user_id) == (A, B, "exact", logged_in.id)
    # Marking again changes the mark; an empty mark clears it.
    _mark(client, pairs, A, C, "similar")
    assert db.session.scalar(select(func.count()).select_from(PairMark)) == 2
    url = f"/treatments/{pairs.id}/results"
    assert _shown(client, f"{url}?mark=exact") == ["0.950"]
    assert _shown(client, f"{url}?mark=similar") == ["0.700"]
    assert _shown(client, f"{url}?mark=unmarked") == ["0.400"]
    assert _shown(client, f"{url}?mark=bogus") == ["0.950", "0.700", "0.400"]
    _mark(client, pairs, A, C, "")
    assert _shown(client, f"{url}?mark=unmarked") == ["0.700", "0.400"]
    # After a reload the page shows the mark.
    page = client.get(url).get_data(as_text=True)
    assert 'value="exact" class="small mark mark-exact" aria-pressed="true"' in page


def test_marks_are_seen_by_who_may_see_the_treatment_and_exported(
    client: FlaskClient, pairs: Treatment, auth: AuthActions, other_user: User
) -> None:
    _mark(client, pairs, A, B, "exact")
    make_user("root@example.org", admin=True, name="Root")
    auth.logout()
    auth.login("root@example.org")
    _mark(client, pairs, A, B, "partial")
    page = client.get(f"/treatments/{pairs.id}/results").get_data(as_text=True)
    assert "Ada: Exact match, Root: Partial match" in page
    text = client.get(f"/treatments/{pairs.id}/export/csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert (rows[0]["my_mark"], rows[0]["marks"]) == ("partial", "Ada: exact; Root: partial")
    only = list(
        csv.DictReader(
            io.StringIO(
                client.get(f"/treatments/{pairs.id}/export/csv?mark=partial").get_data(as_text=True)
            )
        )
    )
    assert [(r["a"], r["b"]) for r in only] == [(A, B)]
    auth.logout()
    auth.login(other_user)
    assert _mark(client, pairs, A, B, "no").status_code == 404
    assert client.get(f"/treatments/{pairs.id}/results").status_code == 404


@pytest.mark.parametrize(
    ("a", "b", "mark", "message"),
    [
        (A, B, "maybe", "Choose exact match"),
        (A, A, "exact", "two different regions"),
        (A, "wit9_img9_0001_1,1,1,1", "exact", "two different regions"),
        ("", B, "exact", "two different regions"),
    ],
)
def test_bad_marks_are_refused_with_a_reason(
    client: FlaskClient, pairs: Treatment, a: str, b: str, mark: str, message: str
) -> None:
    response = _mark(client, pairs, a, b, mark, **HTMX)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    followed = client.post(
        f"/similarity/{pairs.id}/marks", data={"a": a, "b": b, "mark": mark}, follow_redirects=True
    )
    assert message in followed.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(PairMark)) == 0


def test_matches_are_proposed_by_transitivity_and_can_be_marked_there(
    client: FlaskClient, pairs: Treatment
) -> None:
    url = f"/treatments/{pairs.id}/results?view=proposals"
    assert "Nothing to propose yet" in client.get(url).get_data(as_text=True)
    _mark(client, pairs, A, B, "exact")
    _mark(client, pairs, A, C, "similar")
    page = client.get(url).get_data(as_text=True)
    # B~A and A~C: is B~C? (a pair the machine did not find)
    assert page.count('class="proposal"') == 1
    assert f'name="a" value="{C}"><input type="hidden" name="b" value="{B}"' in page
    assert _mark(client, pairs, B, C, "partial").status_code == 303
    assert "Nothing to propose yet" in client.get(url).get_data(as_text=True)


def test_clusters_join_marked_pairs_and_pairs_above_a_score_but_not_a_no(
    client: FlaskClient, pairs: Treatment
) -> None:
    url = f"/treatments/{pairs.id}/results?view=clusters"
    assert "No group yet" in client.get(url).get_data(as_text=True)
    _mark(client, pairs, A, B, "exact")
    marked = client.get(url).get_data(as_text=True)
    assert "Figure 1 · 2 regions in 2 documents" in marked
    linked = client.get(f"{url}&link_score=0.3").get_data(as_text=True)
    assert "Figure 1 · 4 regions in 2 documents" in linked
    _mark(client, pairs, B, D, "no")
    split = client.get(f"{url}&link_score=0.3").get_data(as_text=True)
    assert "Figure 1 · 3 regions in 2 documents" in split
    assert "Figure 2" not in split
    assert client.get(f"{url}&link_score=nan").status_code == 200
