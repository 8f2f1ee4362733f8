"""The home page: one's treatments live, one's sets and those shared, a quick launch, and one
search over the catalogue, sets and treatments."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import AuthActions, make_user
from tests.factories import make_witness, make_work
from tests.treatment_helpers import launch, make_set
from webapp.auth.models import User
from webapp.document_sets.models import DocumentSet
from webapp.extensions import db


def test_anonymous_visitors_are_sent_to_the_login_page(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_the_home_page_shows_ones_work_sets_and_a_quick_launch(
    app: Flask, client: FlaskClient, logged_in: User, processing_api: Any
) -> None:
    mine = make_set(logged_in)
    other = make_user("other@example.org", name="Béatrice")
    db.session.add(DocumentSet(title="Shared atlas", owner_id=other.id, visibility="public"))
    db.session.add(DocumentSet(title="Hidden atlas", owner_id=other.id))
    db.session.commit()
    treatment = launch(client, mine)
    page = client.get("/").get_data(as_text=True)
    assert f'id="row-{treatment.id}"' in page  # a live row, followed by the list's stream
    assert "/treatments/rows?mine=1" in page
    assert "Your sets" in page
    assert mine.title in page
    assert "Shared atlas" in page
    assert "Béatrice" in page
    assert "Hidden atlas" not in page
    assert f'<option value="{mine.id}">{mine.title}</option>' in page
    rows = client.get("/treatments/rows?mine=1").get_data(as_text=True)
    assert f'id="row-{treatment.id}"' in rows
    # Logging in leads home.
    client.post("/logout")
    response = client.post(
        "/login", data={"email": logged_in.email, "password": "correct horse battery"}
    )
    assert response.headers["Location"] == "/"


def test_an_admins_home_shows_their_own_treatments_only(
    app: Flask, client: FlaskClient, auth: AuthActions, user: User, admin: User,
    processing_api: Any,
) -> None:  # fmt: skip
    auth.login(user)
    theirs = launch(client, make_set(user))
    client.post("/logout")
    auth.login(admin)
    assert f"row-{theirs.id}" not in client.get("/").get_data(as_text=True)
    assert f"row-{theirs.id}" in client.get("/treatments/").get_data(as_text=True)
    assert f"row-{theirs.id}" not in client.get("/treatments/rows?mine=1").get_data(as_text=True)


def test_one_search_finds_catalogue_sets_and_treatments(
    app: Flask, client: FlaskClient, logged_in: User, other_user: User, processing_api: Any
) -> None:
    witness = make_witness(logged_in, "Vat. lat. 3867")
    make_work(logged_in, "Vergilius Romanus")
    document_set = make_set(logged_in)
    document_set.title = "Vergil's figures"
    db.session.add(DocumentSet(title="Vergil, private", owner_id=other_user.id))
    db.session.commit()
    treatment = launch(client, document_set)

    def found(query: str) -> str:
        return client.get("/search", query_string={"q": query}).get_data(as_text=True)

    by_title = found("verg")
    assert "Vergilius Romanus" in by_title
    assert "Vergil&#39;s figures" in by_title
    assert "Vergil, private" not in by_title  # someone else's private set
    assert treatment.id in by_title  # its set's title matches
    assert "Vat. lat. 3867" in found(witness.ref)
    assert "Vat. lat. 3867" in found("3867")
    assert treatment.id in found(treatment.id[:8].upper())
    assert "Nothing matches “zzz”." in found("zzz")
    assert client.get("/search").status_code == 200
