from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select

from tests.conftest import AuthActions, json_body
from tests.factories import make_digitization, make_series, make_witness, make_work
from webapp.auth.models import User
from webapp.document_sets.models import DocumentSet
from webapp.extensions import db

HTMX = {"HX-Request": "true"}


def _create(client: FlaskClient, title: str = "Diagrams") -> DocumentSet:
    response = client.post("/sets/", data={"title": title})
    assert response.status_code == 302
    document_set = db.session.scalar(select(DocumentSet).where(DocumentSet.title == title))
    assert document_set is not None
    return document_set


def test_build_a_set_with_the_search_box(client: FlaskClient, logged_in: User) -> None:
    series = make_series(logged_in, "Miscellanies")
    in_series = make_witness(logged_in, "MS Misc 1", series_id=series.id)
    make_digitization(in_series, pages=3)
    work = make_work(logged_in, "Theorica planetarum")
    with_work = make_witness(logged_in, "MS Theo")
    with_work.works.append(work)
    make_digitization(with_work, pages=2)
    db.session.commit()
    document_set = _create(client)

    found = client.get(f"/sets/{document_set.id}/search?q=misc", headers=HTMX)
    text = found.get_data(as_text=True)
    assert "MS Misc 1" in text
    assert "Miscellanies" in text
    assert "<html" not in text
    added = client.post(
        f"/sets/{document_set.id}/members", data={"kind": "series", "id": series.id}, headers=HTMX
    )
    assert added.status_code == 200
    assert "1</strong> witness" in added.get_data(as_text=True)
    added = client.post(
        f"/sets/{document_set.id}/members", data={"kind": "work", "id": work.id}, headers=HTMX
    )
    summary = added.get_data(as_text=True)
    assert "2</strong> witnesses" in summary
    assert "5</strong> pages" in summary
    again = client.post(f"/sets/{document_set.id}/members", data={"kind": "work", "id": work.id})
    assert again.status_code == 302
    db.session.expire_all()
    assert len(document_set.works) == 1

    removed = client.post(
        f"/sets/{document_set.id}/members/remove",
        data={"kind": "series", "id": series.id},
        headers=HTMX,
    )
    assert "Miscellanies" not in removed.get_data(as_text=True)
    db.session.expire_all()
    assert document_set.series == []


def test_bad_member_requests_are_400(client: FlaskClient, logged_in: User) -> None:
    document_set = _create(client)
    for data in [
        {"kind": "planet", "id": "1"},
        {"kind": "work", "id": "999"},
        {"kind": "work", "id": "abc"},
        {},
    ]:
        response = client.post(f"/sets/{document_set.id}/members", data=data)
        assert response.status_code == 400
    assert (
        "Unknown kind of document"
        in json_body(
            client.post(
                f"/sets/{document_set.id}/members",
                data={"kind": "planet", "id": "1"},
                headers={"Accept": "application/json"},
            )
        )["message"]
    )


def test_titles_are_required_and_bounded(client: FlaskClient, logged_in: User) -> None:
    assert "Give the set a title." in client.post("/sets/", data={"title": "  "}).get_data(
        as_text=True
    )
    assert "At most 200 characters." in client.post("/sets/", data={"title": "x" * 201}).get_data(
        as_text=True
    )
    assert db.session.scalar(select(DocumentSet)) is None
    document_set = _create(client)
    response = client.post(f"/sets/{document_set.id}/rename", data={"title": ""})
    assert response.status_code == 400
    assert (
        client.post(f"/sets/{document_set.id}/rename", data={"title": "Renamed"}).status_code == 302
    )
    db.session.expire_all()
    assert document_set.title == "Renamed"


def test_sharing_with_named_users(
    client: FlaskClient, auth: AuthActions, logged_in: User, other_user: User
) -> None:
    document_set = _create(client)
    bad = client.post(
        f"/sets/{document_set.id}/sharing",
        data={"visibility": "shared", "shared_with": "ghost@example.org"},
    )
    assert bad.status_code == 400
    assert "No account for: ghost@example.org" in bad.get_data(as_text=True)
    assert (
        client.post(f"/sets/{document_set.id}/sharing", data={"visibility": "nobody"}).status_code
        == 400
    )
    ok = client.post(
        f"/sets/{document_set.id}/sharing",
        data={"visibility": "shared", "shared_with": "BOB@example.org\n"},
    )
    assert ok.status_code == 302
    auth.logout()
    auth.login(other_user)
    page = client.get(f"/sets/{document_set.id}")
    assert page.status_code == 200
    assert "Add documents" not in page.get_data(as_text=True)
    assert "Diagrams" in client.get("/sets/").get_data(as_text=True)
    assert client.post(f"/sets/{document_set.id}/rename", data={"title": "x"}).status_code == 404
    assert client.post(f"/sets/{document_set.id}/delete").status_code == 404


def test_another_users_private_set_is_404(
    client: FlaskClient, auth: AuthActions, user: User, other_user: User
) -> None:
    document_set = DocumentSet(title="Secret", owner_id=user.id)
    db.session.add(document_set)
    db.session.commit()
    auth.login(other_user)
    assert "Secret" not in client.get("/sets/").get_data(as_text=True)
    for method, url in [
        ("get", ""),
        ("get", "/search?q=a"),
        ("post", "/rename"),
        ("post", "/sharing"),
        ("post", "/delete"),
        ("post", "/members"),
        ("post", "/members/remove"),
    ]:
        response = getattr(client, method)(f"/sets/{document_set.id}{url}")
        assert response.status_code == 404, url


def test_admin_sees_every_set(
    client: FlaskClient, auth: AuthActions, user: User, admin: User
) -> None:
    db.session.add(DocumentSet(title="Secret", owner_id=user.id))
    db.session.commit()
    auth.login(admin)
    assert "Secret" in client.get("/sets/").get_data(as_text=True)


def test_delete_a_set_keeps_the_documents(client: FlaskClient, logged_in: User) -> None:
    witness = make_witness(logged_in)
    document_set = _create(client)
    client.post(f"/sets/{document_set.id}/members", data={"kind": "witness", "id": witness.id})
    assert client.post(f"/sets/{document_set.id}/delete").status_code == 302
    assert db.session.scalar(select(DocumentSet)) is None
    assert witness.id is not None
    assert client.get(f"/catalog/witnesses/{witness.id}").status_code == 200
