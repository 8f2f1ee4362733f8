"""Result files of every module, in the clean form and each looser form of the real AIKON API."""

from __future__ import annotations

import io
import json
import re
import zipfile
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.conftest import AuthActions, Mailbox, json_body, run_jobs
from tests.processing_api import ProcessingAPI, notify
from tests.treatment_helpers import launch, make_set, regions_file, set_of
from webapp.auth.models import User
from webapp.document_sets.models import DocumentSet
from webapp.errors import UserError
from webapp.extensions import db
from webapp.task_modules.regions.keys import crop_list_key
from webapp.task_modules.regions.models import Region, RegionSet
from webapp.task_modules.regions.parsing import parse_regions
from webapp.task_modules.registry import task_module
from webapp.task_modules.similarity.models import SimilarityPair
from webapp.task_modules.vectorization.models import Vectorization
from webapp.treatments.models import Treatment


def _finish(
    client: FlaskClient,
    treatment: Treatment,
    api: ProcessingAPI,
    files: dict[str, Any],
    content_type: str = "application/json",
) -> Treatment:
    """Serve one result file per document, send SUCCESS, run the jobs."""
    items = [
        {
            "doc_id": uid,
            "result_url": api.serve(f"/files/{treatment.id}/{n}", content, content_type),
        }
        for n, (uid, content) in enumerate(files.items())
    ]
    notify(client, treatment, "SUCCESS", output={"results_url": items})
    run_jobs()
    db.session.expire_all()
    return treatment


@pytest.fixture
def regions_done(client: FlaskClient, logged_in: User, processing_api: ProcessingAPI) -> Treatment:
    """A successful regions treatment with 2 regions on each of 2 digitizations."""
    treatment = launch(client, make_set(logged_in), "regions")
    files = {d["uid"]: regions_file(d["uid"], boxes=2) for d in treatment.documents}
    return _finish(client, treatment, processing_api, files)


def test_region_sets_are_listed_as_url_lists(client: FlaskClient, regions_done: Treatment) -> None:
    region_set = db.session.scalars(select(RegionSet)).first()
    assert region_set is not None
    client.post("/logout")
    key = crop_list_key(region_set.ref)
    crops = json_body(client.get(f"/regions/{region_set.ref}/list?key={key}"))
    assert len(crops) == 2
    crop_id, url = sorted(crops.items())[0]
    assert crop_id == f"{region_set.digitization.ref}_0001_10,20,40,30"
    assert url == (
        f"http://localhost/iiif/image/{region_set.digitization.ref}_0001/"
        "10,20,40,30/max/0/default.jpg"
    )
    with client.get(url.removeprefix("http://localhost")) as image:
        assert image.status_code == 200
    wrong = region_set.ref.replace("_anno", "_anno9")
    assert client.get(f"/regions/{wrong}/list?key={key}").status_code == 404
    assert client.get(f"/regions/{region_set.digitization.ref}/list").status_code == 404
    # Without its key, or with another set's, a crop list is not there.
    assert client.get(f"/regions/{region_set.ref}/list").status_code == 404
    other = crop_list_key(wrong)
    assert client.get(f"/regions/{region_set.ref}/list?key={other}").status_code == 404


def _launch_similarity(client: FlaskClient, regions_done: Treatment) -> Treatment:
    return launch(
        client,
        set_of(regions_done),
        "similarity",
        regions_treatment=regions_done.id,
        algorithm="cosine",
        feat_net="default",
        topk="5",
        threshold="0.2",
        prefilter_n="10",
    )


def _launch_vectorization(client: FlaskClient, regions_done: Treatment) -> Treatment:
    return launch(
        client,
        set_of(regions_done),
        "vectorization",
        regions_treatment=regions_done.id,
        model="strokes",
    )


def test_similarity_success_path(
    client: FlaskClient, regions_done: Treatment, processing_api: ProcessingAPI
) -> None:
    treatment = _launch_similarity(client, regions_done)
    sent = processing_api.starts[-1]
    assert sent["topk"] == 5
    assert sent["threshold"] == 0.2
    # The same values under the names AIKON's API reads.
    assert (sent["cosine_n_filter"], sent["segswap_prefilter"], sent["segswap_n"]) == (5, False, 10)
    assert [d["type"] for d in sent["documents"]] == ["url_list", "url_list"]
    assert sent["documents"][0]["src"].startswith("http://localhost/regions/")
    ids = [f"crop{i}" for i in range(4)]
    result = {
        "parameters": {},
        "index": {
            "sources": {},
            "images": [{"id": image_id, "src": "…", "doc_uid": "x"} for image_id in ids],
        },
        # AIKON pairs images with themselves and keeps scores <= 0.
        "pairs": [
            [0, 1, 0.9, 0, 0],
            [1, 0, 0.8, 0, 0],
            [2, 2, 1.0, 0, 0],
            [0, 3, -0.2, 0, 0],
            [2, 3, 0.0, 0, 0],
            [1, 2, 0.5, 0, 0],
            [0, 2, 0.15, 0, 0],  # below the threshold: AIKON does not apply it, we do
        ],
    }
    uid = f"{sent['documents'][0]['uid']}-{sent['documents'][1]['uid']}"
    items = [
        {"doc_pair": uid, "result_url": processing_api.serve("/sim.json", result)},
        {"doc_pair": "dataset"},
    ]  # AIKON's final item: ignored
    notify(client, treatment, "SUCCESS", output={"results_url": items})
    run_jobs()
    db.session.expire_all()
    assert treatment.status == "SUCCESS"
    pairs = db.session.scalars(select(SimilarityPair).order_by(SimilarityPair.score)).all()
    assert [(p.a, p.b, p.score) for p in pairs] == [
        ("crop1", "crop2", 0.5),
        ("crop0", "crop1", 0.9),
    ]
    assert pairs[0].algorithm == "cosine"
    assert len(pairs[0].parameter_hash) == 64


def _offered(client: FlaskClient, task: str, document_set: DocumentSet) -> list[str]:
    fragment = client.get(f"/treatments/subform?task_type={task}&document_set={document_set.id}")
    html = fragment.get_data(as_text=True)
    start = html.index(f'name="{task}-regions_treatment"')
    return re.findall(
        r'<option[^>]*value="([0-9a-f-]{36})"', html[start : html.index("</select>", start)]
    )


def test_the_forms_offer_exactly_the_regions_runs_of_the_chosen_set_newest_first(
    client: FlaskClient,
    logged_in: User,
    other_user: User,
    auth: AuthActions,
    regions_done: Treatment,
    processing_api: ProcessingAPI,
) -> None:
    document_set = set_of(regions_done)
    newer = launch(client, document_set, "regions", notify_email=False)
    _finish(
        client, newer, processing_api, {d["uid"]: regions_file(d["uid"]) for d in newer.documents}
    )
    other_set = make_set(logged_in)
    for task in ("similarity", "vectorization"):
        assert _offered(client, task, document_set) == [newer.id, regions_done.id]
        assert _offered(client, task, other_set) == []
    empty = client.get(f"/treatments/subform?task_type=similarity&document_set={other_set.id}")
    assert "run Regions on it first" in empty.get_data(as_text=True)
    # The page itself offers the runs of the set it shows selected.
    page = client.get(f"/treatments/new?document_set={other_set.id}&task_type=similarity")
    assert regions_done.id not in page.get_data(as_text=True)
    # A set someone else cannot see offers them nothing, whatever its id.
    auth.logout()
    auth.login(other_user)
    assert _offered(client, "similarity", document_set) == []
    # Shared with them, its owner's runs are offered, named with their owner, and accepted.
    document_set = set_of(regions_done)
    document_set.visibility = "shared"
    document_set.shared_with = [other_user]
    db.session.commit()
    assert _offered(client, "similarity", document_set) == [newer.id, regions_done.id]
    fragment = client.get(
        f"/treatments/subform?task_type=similarity&document_set={document_set.id}"
    )
    assert "by Ada" in fragment.get_data(as_text=True)
    treatment = _launch_similarity(client, regions_done)
    assert (treatment.owner_id, treatment.parameters["regions_treatment"]) == (
        other_user.id,
        regions_done.id,
    )


def _similarity_file(crops: list[str]) -> dict[str, Any]:
    return {
        "parameters": {},
        "index": {"sources": {}, "images": [{"id": c, "src": "…", "doc_uid": "x"} for c in crops]},
        "pairs": [[0, 1, 0.9, 0, 0]],
    }


def test_similarity_counts_progress_in_pairs_everywhere(
    app: Flask,
    client: FlaskClient,
    regions_done: Treatment,
    processing_api: ProcessingAPI,
    mailbox: Mailbox,
) -> None:
    treatment = _launch_similarity(client, regions_done)
    first, second = treatment.document_uids
    # Two documents: each with itself and the one with the other, three pairs.
    assert treatment.units_total == 3
    url = processing_api.serve("/p.json", _similarity_file(["c0", "c1"]))
    notify(
        client,
        treatment,
        "PROGRESS",
        output={"results_url": [{"doc_pair": first, "result_url": url}]},
    )
    run_jobs()
    page = client.get(f"/treatments/{treatment.id}").get_data(as_text=True)
    assert "1 of 3 pairs done" in page
    assert "documents done" not in page
    assert "1 of 3 pairs" in client.get("/treatments/rows").get_data(as_text=True)
    listing = app.test_cli_runner().invoke(args=["treatments", "list"]).output
    assert f"{treatment.id}\tIN_PROGRESS\tsimilarity\t" in listing
    assert "\t1 of 3 pairs\t" in listing
    db.session.expire_all()
    assert treatment.fraction_done == pytest.approx(1 / 3)
    items = [{"doc_pair": uid, "result_url": url} for uid in (first, f"{first}-{second}", second)]
    notify(client, treatment, "SUCCESS", output={"results_url": items})
    run_jobs()
    db.session.expire_all()
    assert treatment.message == "Done: results for 3 of 3 pairs."
    assert "Done: 3 of 3 pairs" in mailbox.body()


def test_similarity_needs_a_successful_regions_treatment_of_the_set(
    client: FlaskClient, logged_in: User, regions_done: Treatment, processing_api: ProcessingAPI
) -> None:
    other_set = make_set(logged_in)
    response = client.post(
        "/treatments/new",
        data={
            "document_set": str(other_set.id),
            "task_type": "similarity",
            "similarity-regions_treatment": regions_done.id,
            "similarity-algorithm": "cosine",
            "similarity-feat_net": "default",
            "similarity-topk": "5",
            "similarity-threshold": "0.5",
            "similarity-prefilter_n": "10",
        },
    )
    assert response.status_code == 400
    assert "Choose one of the regions runs of this document set" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Treatment)) == 1


def _zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 30"><path d="M0 0L40 30"/></svg>'


def test_vectorization_success_path_ignores_other_files(
    client: FlaskClient, regions_done: Treatment, processing_api: ProcessingAPI
) -> None:
    treatment = _launch_vectorization(client, regions_done)
    uid = treatment.documents[0]["uid"]
    archive = _zip(
        {"crop_a.svg": SVG, "dir/crop_b.svg": SVG, "notes.txt": "x", "preview.png": "not svg"}
    )
    _finish(client, treatment, processing_api, {uid: archive}, "application/zip")
    assert treatment.status == "SUCCESS"
    stored = db.session.scalars(select(Vectorization).order_by(Vectorization.crop_id)).all()
    assert [v.crop_id for v in stored] == ["crop_a", "crop_b"]
    assert stored[0].svg == SVG


def test_a_broken_vectorization_zip_is_a_document_error(
    client: FlaskClient, regions_done: Treatment, processing_api: ProcessingAPI
) -> None:
    treatment = _launch_vectorization(client, regions_done)
    uid = treatment.documents[0]["uid"]
    _finish(client, treatment, processing_api, {uid: b"PK not really"}, "application/zip")
    assert treatment.status == "ERROR"
    assert "not a zip file" in treatment.error


def test_aikon_regions_name_pages_by_file_with_float_boxes_and_empty_entries(
    client: FlaskClient, logged_in: User, processing_api: ProcessingAPI
) -> None:
    treatment = launch(client, make_set(logged_in, digitizations=1))
    uid = treatment.documents[0]["uid"]
    aikon = [
        {
            "source": "0002.jpg",
            "width": 400,
            "height": 300,
            "doc_uid": uid,
            "crops": [
                {
                    "crop_id": f"{uid}_0002-a1b2",
                    "confidence": 0.77,
                    "absolute": {
                        "x1": 10.4,
                        "y1": 20.6,
                        "x2": 60.2,
                        "y2": 80.9,
                        "width": 49.8,
                        "height": 60.3,
                    },
                },
                {
                    "crop_id": f"{uid}_0002-c3d4",
                    "confidence": 0.5,
                    "absolute": {
                        "x1": 390.0,
                        "y1": 290.0,
                        "x2": 450.0,
                        "y2": 330.0,
                        "width": 60.0,
                        "height": 40.0,
                    },
                },
            ],
        },
        {"doc_uid": uid},  # a page AIKON could not fetch
    ]
    _finish(client, treatment, processing_api, {uid: aikon})
    assert treatment.status == "SUCCESS"
    regions = db.session.scalars(select(Region).order_by(Region.x)).all()
    assert [(r.page.order, r.x, r.y, r.w, r.h) for r in regions] == [
        (2, 10, 21, 50, 60),
        (2, 390, 290, 10, 10),
    ]  # clipped to the page
    assert regions[0].confidence == pytest.approx(0.77)


def test_the_same_regions_file_twice_gives_the_same_rows(
    client: FlaskClient, logged_in: User, processing_api: ProcessingAPI
) -> None:
    treatment = launch(client, make_set(logged_in, digitizations=1))
    uid = treatment.documents[0]["uid"]
    module_file = json.dumps(regions_file(uid, boxes=3)).encode()
    module = task_module("regions")
    assert module.process_results(treatment, uid, module_file).count == 3
    assert module.process_results(treatment, uid, module_file).count == 3
    db.session.commit()
    assert db.session.scalar(select(func.count(Region.id))) == 3


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"<html>", "not JSON"),
        (b'{"a": 1}', "not a list of pages"),
        (b"[1]", "entry that is not a page"),
        (
            json.dumps([{"source": "u_0001", "crops": [{"absolute": {"x1": "a"}}]}]).encode(),
            "no usable box",
        ),
    ],
)
def test_malformed_regions_files_are_refused_with_a_reason(content: bytes, message: str) -> None:
    with pytest.raises(UserError, match=message):
        parse_regions(content, "u")


def test_regions_naming_a_page_the_document_lacks_are_refused(
    client: FlaskClient, logged_in: User, processing_api: ProcessingAPI
) -> None:
    treatment = launch(client, make_set(logged_in, digitizations=1, pages=2))
    uid = treatment.documents[0]["uid"]
    _finish(client, treatment, processing_api, {uid: regions_file(uid, page=9)})
    assert treatment.status == "ERROR"
    assert "page 9" in treatment.error
    assert db.session.scalar(select(func.count(Region.id))) == 0


def _similarity_result(score: float) -> bytes:
    images = [{"id": image_id} for image_id in ("crop-a", "crop-b")]
    return json.dumps({"index": {"images": images}, "pairs": [[1, 0, score]]}).encode()


def test_a_pair_stored_again_keeps_its_higher_score_in_one_row(
    client: FlaskClient, regions_done: Treatment, processing_api: ProcessingAPI
) -> None:
    treatment = _launch_similarity(client, regions_done)
    module = task_module("similarity")
    for score in (0.6, 0.9, 0.7):
        assert module.process_results(treatment, "pair", _similarity_result(score)).count == 1
    db.session.commit()
    pairs = db.session.scalars(select(SimilarityPair)).all()
    assert [(p.a, p.b, p.score) for p in pairs] == [("crop-a", "crop-b", 0.9)]


def test_a_crop_vectorized_again_keeps_the_latest_drawing_in_one_row(
    client: FlaskClient, regions_done: Treatment, processing_api: ProcessingAPI
) -> None:
    treatment = _launch_vectorization(client, regions_done)
    module = task_module("vectorization")
    for drawing in (SVG, SVG.replace("M", "L")):
        assert module.process_results(treatment, "doc", _zip({"crop-a.svg": drawing})).count == 1
    db.session.commit()
    drawings = db.session.scalars(select(Vectorization)).all()
    assert [(v.crop_id, v.svg) for v in drawings] == [("crop-a", SVG.replace("M", "L"))]


def test_related_work_is_linked_both_ways_with_parameters_named_as_the_form_names_them(
    client: FlaskClient, regions_done: Treatment, processing_api: ProcessingAPI
) -> None:
    vectorization = _launch_vectorization(client, regions_done)
    client.post(f"/treatments/{vectorization.id}/cancel")
    client.post(f"/treatments/{vectorization.id}/relaunch")
    run_jobs()
    relaunched = db.session.scalars(
        select(Treatment).where(Treatment.relaunch_of_id == vectorization.id)
    ).one()
    page = client.get(f"/treatments/{vectorization.id}").get_data(as_text=True)
    assert "Run on the regions found by" in page  # the form's label, not `regions_treatment`
    assert "Strokes, lines and circles" in page  # the model's label, not `strokes`
    assert f'href="/treatments/{regions_done.id}"' in page
    assert "Input from" in page
    assert "Relaunched as" in page
    assert f'href="/treatments/{relaunched.id}"' in page
    regions_page = client.get(f"/treatments/{regions_done.id}").get_data(as_text=True)
    assert "Its results used by" in regions_page
    assert f'href="/treatments/{vectorization.id}"' in regions_page
    later = client.get(f"/treatments/{relaunched.id}").get_data(as_text=True)
    assert "Relaunch of" in later
    # Ids are shown in lower case, and found whatever the case they are typed in.
    assert vectorization.id == vectorization.id.lower()
    assert client.get(f"/treatments/{vectorization.id.upper()}").status_code == 200
