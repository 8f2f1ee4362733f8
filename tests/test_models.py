from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select

from tests.factories import make_digitization, make_series, make_witness, make_work
from tests.queries import count_queries
from webapp.auth.models import User
from webapp.catalog.models import Digitization, Page, Witness
from webapp.document_sets.models import DocumentSet
from webapp.extensions import db


def _set(owner: User, **members: Any) -> DocumentSet:
    document_set = DocumentSet(title="My set", owner_id=owner.id, **members)
    db.session.add(document_set)
    db.session.commit()
    return document_set


def test_refs_of_witness_digitization_and_page(app: Flask, user: User) -> None:
    witness = make_witness(user)
    digitization = make_digitization(witness, pages=9)
    assert witness.ref == f"wit{witness.id}"
    assert digitization.ref == f"wit{witness.id}_img{digitization.id}"
    assert digitization.pages[8].ref == f"{digitization.ref}_0009"


def test_all_witnesses_expands_series_works_and_digitizations_once_each(
    app: Flask, user: User
) -> None:
    series = make_series(user)
    work = make_work(user)
    in_series = make_witness(user, "A", series_id=series.id)
    in_both = make_witness(user, "B", series_id=series.id)
    in_both.works.append(work)
    only_work = make_witness(user, "C")
    only_work.works.append(work)
    direct = make_witness(user, "D")
    through_scan = make_witness(user, "E")
    make_witness(user, "F, not in the set")
    scan = make_digitization(through_scan, pages=3)
    make_digitization(in_series, pages=2)
    make_digitization(direct, pages=4)
    db.session.commit()
    document_set = _set(
        user, series=[series], works=[work], witnesses=[direct, in_both], digitizations=[scan]
    )
    db.session.expire_all()
    assert document_set.id  # loads the set itself before counting

    with count_queries() as statements:
        witnesses = document_set.all_witnesses()
    assert [w.siglum for w in witnesses] == ["A", "B", "C", "D", "E"]
    assert len(statements) == 1
    with count_queries() as statements:
        assert document_set.page_count() == 3 + 2 + 4
    assert len(statements) == 1


def test_deleting_a_document_removes_it_from_every_set(app: Flask, user: User) -> None:
    work = make_work(user)
    series = make_series(user)
    witness = make_witness(user)
    scan = make_digitization(make_witness(user, "other"))
    first = _set(user, witnesses=[witness], works=[work], series=[series], digitizations=[scan])
    second = _set(user, witnesses=[witness])
    for entry in (witness, work, series, scan):
        db.session.delete(entry)
    db.session.commit()
    db.session.expire_all()
    for document_set in (first, second):
        assert document_set.member_count() == 0
    assert db.session.scalars(select(Page)).all() == []


def test_deleting_a_series_keeps_its_witnesses(app: Flask, user: User) -> None:
    series = make_series(user)
    witness = make_witness(user, series_id=series.id)
    db.session.delete(series)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Witness, witness.id) is not None
    assert witness.series_id is None


def test_deleting_a_witness_deletes_its_digitizations(app: Flask, user: User) -> None:
    witness = make_witness(user)
    make_digitization(witness, pages=2)
    db.session.delete(witness)
    db.session.commit()
    assert db.session.scalars(select(Digitization)).all() == []
    assert db.session.scalars(select(Page)).all() == []


def test_visibility_of_document_sets(app: Flask, user: User, other_user: User, admin: User) -> None:
    document_set = _set(user)
    assert document_set.visible_to(user)
    assert document_set.visible_to(admin)
    assert not document_set.visible_to(other_user)
    document_set.visibility = "shared"
    assert not document_set.visible_to(other_user)
    document_set.shared_with = [other_user]
    assert document_set.visible_to(other_user)
    assert not document_set.editable_by(other_user)
    document_set.visibility = "public"
    document_set.shared_with = []
    assert document_set.visible_to(other_user)
