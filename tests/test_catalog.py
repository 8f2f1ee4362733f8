from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.conftest import AuthActions
from tests.factories import make_digitization, make_series, make_witness, make_work
from webapp.auth.models import User
from webapp.catalog.models import Series, Witness, Work
from webapp.document_sets.models import DocumentSet
from webapp.extensions import db


def test_create_edit_and_delete_a_work(client: FlaskClient, logged_in: User) -> None:
    response = client.post(
        "/catalog/works/new", data={"title": "  De sphaera ", "author": "Sacrobosco"}
    )
    assert response.status_code == 302
    work = db.session.scalar(select(Work))
    assert work is not None
    assert work.title == "De sphaera"
    assert work.created_by_id == logged_in.id
    response = client.post(
        f"/catalog/works/{work.id}/edit", data={"title": "Sphaera mundi", "author": "Sacrobosco"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert work.title == "Sphaera mundi"
    page = client.get(f"/catalog/works/{work.id}").get_data(as_text=True)
    assert "Sphaera mundi" in page
    assert client.post(f"/catalog/works/{work.id}/delete").status_code == 302
    assert db.session.scalar(select(Work)) is None


def test_create_a_witness_with_series_and_works(client: FlaskClient, logged_in: User) -> None:
    series = make_series(logged_in)
    works = [make_work(logged_in, "De sphaera"), make_work(logged_in, "Theorica")]
    response = client.post(
        "/catalog/witnesses/new",
        data={
            "siglum": "Oxford, Bodleian, MS Digby 48",
            "kind": "manuscript",
            "place": "Oxford",
            "date": "c. 1280",
            "series_id": str(series.id),
            "work_ids": [str(w.id) for w in works],
        },
    )
    assert response.status_code == 302
    witness = db.session.scalar(select(Witness))
    assert witness is not None
    assert witness.series_id == series.id
    assert sorted(w.title for w in witness.works) == ["De sphaera", "Theorica"]
    page = client.get(f"/catalog/witnesses/{witness.id}").get_data(as_text=True)
    assert "Oxford, Bodleian, MS Digby 48" in page
    assert "Theorica" in page
    form = client.get(f"/catalog/witnesses/{witness.id}/edit").get_data(as_text=True)
    assert f'<option selected value="{series.id}">' in form


def test_titles_are_required_and_bounded(client: FlaskClient, logged_in: User) -> None:
    for kind, field in [("works", "title"), ("series", "title"), ("witnesses", "siglum")]:
        empty = client.post(f"/catalog/{kind}/new", data={field: "   ", "kind": "manuscript"})
        assert empty.status_code == 200
        assert "Give a title." in empty.get_data(as_text=True)
        long = client.post(f"/catalog/{kind}/new", data={field: "x" * 301, "kind": "manuscript"})
        assert "characters" in long.get_data(as_text=True)
    assert db.session.scalars(select(Work)).all() == []
    assert db.session.scalars(select(Series)).all() == []
    assert db.session.scalars(select(Witness)).all() == []


def test_bad_choices_are_refused(client: FlaskClient, logged_in: User) -> None:
    response = client.post(
        "/catalog/witnesses/new", data={"siglum": "X", "kind": "scroll", "series_id": "999"}
    )
    assert response.status_code == 200
    assert "Not a valid choice" in response.get_data(as_text=True)
    assert db.session.scalar(select(Witness)) is None


def test_only_creator_or_admin_edits_and_deletes(
    client: FlaskClient, auth: AuthActions, user: User, other_user: User, admin: User
) -> None:
    work = make_work(user)
    auth.login(other_user)
    assert client.get(f"/catalog/works/{work.id}").status_code == 200
    assert client.get(f"/catalog/works/{work.id}/edit").status_code == 403
    assert client.post(f"/catalog/works/{work.id}/delete").status_code == 403
    auth.logout()
    auth.login(admin)
    assert client.post(f"/catalog/works/{work.id}/edit", data={"title": "T"}).status_code == 302
    assert client.post(f"/catalog/works/{work.id}/delete").status_code == 302


def test_deleting_a_witness_removes_it_from_sets_and_files(
    app: Flask, client: FlaskClient, logged_in: User
) -> None:
    witness = make_witness(logged_in)
    digitization = make_digitization(witness)
    page_file = app.config["STORAGE_DIR"] + "/" + digitization.pages[0].file
    document_set = DocumentSet(title="S", owner_id=logged_in.id, witnesses=[witness])
    db.session.add(document_set)
    db.session.commit()
    response = client.post(f"/catalog/witnesses/{witness.id}/delete")
    assert response.status_code == 302
    db.session.expire_all()
    assert document_set.witnesses == []
    import os

    assert not os.path.exists(page_file)


def test_the_catalogue_search_finds_a_witness_by_any_ref_of_its_documents(
    client: FlaskClient, logged_in: User
) -> None:
    witness = make_witness(logged_in, "Codex Refound")
    digitization = make_digitization(witness, pages=1)
    make_witness(logged_in, "Codex Other")
    page = digitization.pages[0].ref
    for query in (
        witness.ref,
        digitization.ref,
        f"{digitization.ref}_anno3",
        page,
        f"{page}_1,2,3,4",
    ):
        found = client.get(f"/catalog/witnesses/?q={query}").get_data(as_text=True)
        assert "Codex Refound" in found, query
        assert "Codex Other" not in found, query
    # A digitization ref names a witness only if the digitization is that witness's.
    wrong = f"wit{witness.id}_img{digitization.id + 100}"
    assert "Codex Refound" not in client.get(f"/catalog/witnesses/?q={wrong}").get_data(
        as_text=True
    )
    document_set = DocumentSet(title="Refs", owner_id=logged_in.id)
    db.session.add(document_set)
    db.session.commit()
    builder = client.get(f"/sets/{document_set.id}/search?q={page}", headers={"HX-Request": "true"})
    text = builder.get_data(as_text=True)
    assert text.count("Codex Refound") >= 2  # the witness and its digitization
    assert "Codex Other" not in text


def test_search_and_pagination(app: Flask, client: FlaskClient, logged_in: User) -> None:
    for index in range(30):
        make_witness(logged_in, f"Codex {index:02d}")
    make_witness(logged_in, "Psalter")
    first = client.get("/catalog/witnesses/").get_data(as_text=True)
    assert "Codex 00" in first
    assert "Codex 26" not in first
    assert "Page 1 of 2" in first
    second = client.get("/catalog/witnesses/?page=2").get_data(as_text=True)
    assert "Codex 29" in second
    assert "Psalter" in second
    found = client.get("/catalog/witnesses/?q=psal").get_data(as_text=True)
    assert "Psalter" in found
    assert "Codex" not in found
    partial = client.get("/catalog/witnesses/?q=psal", headers={"HX-Request": "true"})
    assert "<html" not in partial.get_data(as_text=True)
    empty = client.get("/catalog/witnesses/?q=nothing-like-this").get_data(as_text=True)
    assert "No witnesses match" in empty
    assert client.get("/catalog/witnesses/?page=99").status_code == 200
    assert client.get("/catalog/witnesses/?page=abc").status_code == 200


def test_witness_page_shows_digitizations_with_thumbnails(
    client: FlaskClient, logged_in: User
) -> None:
    witness = make_witness(logged_in)
    digitization = make_digitization(witness, pages=3)
    page = client.get(f"/catalog/witnesses/{witness.id}").get_data(as_text=True)
    assert page.count(f"/iiif/image/{digitization.ref}_000") == 3
    # 400 x 300 pages at 140 px high: their size is known before they load (no 1-px slivers).
    assert page.count('width="187" height="140"') == 3
    viewer = client.get(f"/catalog/digitizations/{digitization.id}").get_data(as_text=True)
    assert viewer.index(f"{digitization.ref}_0001") < viewer.index(f"{digitization.ref}_0003")
    assert "data-viewer" in viewer


def test_unknown_entries_are_404(client: FlaskClient, logged_in: User) -> None:
    for url in [
        "/catalog/works/999",
        "/catalog/witnesses/999/edit",
        "/catalog/digitizations/9",
        "/catalog/things/",
    ]:
        assert client.get(url).status_code == 404
