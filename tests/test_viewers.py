"""Results as pictures and as files: regions over their pages, pairs side by side, strokes over
their crops; CSV, zip and IIIF Web Annotations."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import AuthActions, json_body, make_user
from tests.factories import make_work
from tests.iiif_validation import assert_valid_presentation
from tests.treatment_helpers import make_set
from webapp.auth.models import User
from webapp.document_sets.models import DocumentSet
from webapp.extensions import db
from webapp.iiif.links import fitting
from webapp.lifecycle import Status
from webapp.task_modules.regions.models import Region, RegionSet
from webapp.task_modules.similarity.models import SimilarityPair
from webapp.task_modules.vectorization.models import Vectorization
from webapp.treatments.models import Treatment


def _treatment(owner: User, document_set: DocumentSet, task: str, **fields: object) -> Treatment:
    values: dict[str, object] = {"documents": [], "parameters": {}, "status": Status.SUCCESS}
    treatment = Treatment(
        task_type=task,
        owner_id=owner.id,
        document_set_id=document_set.id,
        document_set_title=document_set.title,
        **(values | fields),
    )
    db.session.add(treatment)
    db.session.commit()
    return treatment


def _regions(owner: User, document_set: DocumentSet, boxes: int = 2) -> Treatment:
    """A successful regions treatment: `boxes` regions on each digitization's first page."""
    treatment = _treatment(owner, document_set, "regions")
    for digitization in document_set.all_digitizations():
        region_set = RegionSet(treatment_id=treatment.id, digitization_id=digitization.id)
        db.session.add(region_set)
        db.session.flush()
        page = digitization.pages[0]
        for i in range(boxes):
            db.session.add(
                Region(
                    region_set_id=region_set.id,
                    page_id=page.id,
                    x=10 + 60 * i,
                    y=20,
                    w=50,
                    h=40,
                    confidence=0.9 - i / 10,
                    label="diagram",
                )
            )
    db.session.commit()
    return treatment


@pytest.fixture
def document_set(logged_in: User) -> DocumentSet:
    return make_set(logged_in)


def test_regions_are_drawn_over_their_pages_and_open_their_crop(
    client: FlaskClient, logged_in: User, document_set: DocumentSet
) -> None:
    treatment = _regions(logged_in, document_set)
    page = client.get(f"/treatments/{treatment.id}/results").get_data(as_text=True)
    assert page.count('class="region-page"') == 2  # pages without regions are not shown
    assert page.count("<rect ") == 4
    digitization = document_set.all_digitizations()[0]
    crop = f"/iiif/image/{digitization.ref}_0001/10,20,50,40/max/0/default.jpg"
    assert f'href="{crop}"' in page
    with client.get(crop) as image:
        assert image.status_code == 200
    assert "confidence 0.90" in page
    assert '<image href="/iiif/image/' in page
    detail = client.get(f"/treatments/{treatment.id}").get_data(as_text=True)
    assert f'href="/treatments/{treatment.id}/results"' in detail


def test_the_regions_of_all_my_treatments_can_be_drawn_together(
    client: FlaskClient,
    auth: AuthActions,
    logged_in: User,
    other_user: User,
    document_set: DocumentSet,
) -> None:
    first = _regions(logged_in, document_set, boxes=1)
    _regions(logged_in, document_set, boxes=3)
    _regions(other_user, document_set, boxes=2)  # not mine: never drawn for me
    this = client.get(f"/treatments/{first.id}/results").get_data(as_text=True)
    every = client.get(f"/treatments/{first.id}/results?show=all").get_data(as_text=True)
    assert this.count("<rect ") == 2
    assert every.count("<rect ") == 2 + 2 * 3
    assert every.count('class="region-box other"') == 2 * 3


def test_region_pages_come_a_page_at_a_time(
    client: FlaskClient, logged_in: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("webapp.task_modules.regions.results.PAGES_PER_VIEW", 1)
    treatment = _regions(logged_in, make_set(logged_in, digitizations=3))
    first = client.get(f"/treatments/{treatment.id}/results").get_data(as_text=True)
    assert first.count('class="region-page"') == 1
    assert "Page 1 of 3" in first
    third = client.get(f"/treatments/{treatment.id}/results?page=3").get_data(as_text=True)
    assert "Page 3 of 3" in third


def test_regions_export_as_csv(
    client: FlaskClient, logged_in: User, document_set: DocumentSet
) -> None:
    treatment = _regions(logged_in, document_set)
    response = client.get(f"/treatments/{treatment.id}/export/csv")
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 4
    assert rows[0]["crop_id"].endswith("_0001_10,20,50,40")
    assert float(rows[0]["confidence"]) == pytest.approx(0.9)
    assert client.get(f"/treatments/{treatment.id}/export/zip").status_code == 404


def _annotation_links(document: dict[str, Any]) -> list[str]:
    """The annotation lists (2.1) or pages (3.0) a manifest links to its canvases."""
    if document.get("@type") == "sc:Manifest":
        canvases = document["sequences"][0]["canvases"]
        return [link["@id"] for c in canvases for link in c.get("otherContent", [])]
    if document.get("type") == "Manifest":
        return [link["id"] for c in document["items"] for link in c.get("annotations", [])]
    return []


def _served(client: FlaskClient, *urls: str) -> dict[str, dict[str, Any]]:
    """Every Presentation document reachable from these manifests, by URL."""
    documents: dict[str, dict[str, Any]] = {}
    waiting = list(urls)
    while waiting:
        url = waiting.pop()
        if url in documents:
            continue
        response = client.get(url.removeprefix("http://localhost"))
        assert response.status_code == 200, url
        assert response.mimetype == "application/ld+json"
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        documents[url] = json_body(response)
        waiting += _annotation_links(documents[url])
    return documents


def test_every_manifest_and_annotation_list_served_is_valid_iiif_2_and_3(
    app: Flask, client: FlaskClient, logged_in: User, document_set: DocumentSet
) -> None:
    treatment = _regions(logged_in, document_set)
    region_set = db.session.query(RegionSet).filter_by(treatment_id=treatment.id).first()
    assert region_set is not None
    region_set.digitization.pages[0].label = "f. 1r"
    db.session.commit()
    ref, digitization = region_set.ref, region_set.digitization.ref
    served = _served(
        client,
        f"/iiif/{digitization}/manifest.json",
        f"/iiif/{digitization}/v3/manifest.json",
        f"/regions/{ref}/manifest.json",
        f"/regions/{ref}/v3/manifest.json",
    )
    for document in served.values():
        assert_valid_presentation(document)
    # Every route that serves a Presentation document was reached.
    presentation_rules = {
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint.split(".")[0] in ("iiif", "regions")
        and re.search(r"manifest\.json|/lists/|/annotations/", rule.rule)
    }
    reached = {
        re.sub(r"/(wit\w+)/", "/<ref>/", re.sub(r"/\d+\.json", "/<int:order>.json", url))
        for url in (u.removeprefix("http://localhost").split("?")[0] for u in served)
    }
    assert presentation_rules <= reached, presentation_rules - reached

    v2 = served[f"/regions/{ref}/manifest.json"]
    v3 = served[f"/regions/{ref}/v3/manifest.json"]
    canvases = v2["sequences"][0]["canvases"]
    # One canvas per page in both versions and in the plain manifests, with the page's label.
    assert [c["@id"] for c in canvases] == [c["id"] for c in v3["items"]]
    assert [c["@id"] for c in canvases] == [
        c["@id"] for c in served[f"/iiif/{digitization}/manifest.json"]["sequences"][0]["canvases"]
    ]
    assert (canvases[0]["label"], canvases[1]["label"]) == ("f. 1r", "p. 2")
    assert v3["items"][0]["label"] == {"none": ["f. 1r"]}
    boxes = [f"{canvases[0]['@id']}#xywh=10,20,50,40", f"{canvases[0]['@id']}#xywh=70,20,50,40"]
    annotation_list = served[canvases[0]["otherContent"][0]["@id"]]
    assert annotation_list["@type"] == "sc:AnnotationList"
    assert [a["on"] for a in annotation_list["resources"]] == boxes
    assert annotation_list["resources"][0]["resource"]["chars"] == "diagram (0.90)"
    annotation_page = served[v3["items"][0]["annotations"][0]["id"]]
    assert annotation_page["type"] == "AnnotationPage"
    assert [a["target"] for a in annotation_page["items"]] == boxes
    assert annotation_page["items"][0]["body"]["value"] == "diagram (0.90)"
    assert served[canvases[1]["otherContent"][0]["@id"]]["resources"] == []
    for missing in (f"/regions/{ref}/annotations/99.json", f"/regions/{ref}/lists/99.json"):
        assert client.get(missing).status_code == 404
    # Read by IIIF viewers without a session once the set is public, like the manifests.
    client.post("/logout")
    assert client.get(f"/regions/{ref}/manifest.json").status_code == 404
    document_set.visibility = "public"
    db.session.commit()
    assert client.get(f"/regions/{ref}/v3/manifest.json").status_code == 200


def test_the_validation_refuses_what_viewers_would_not_read(
    client: FlaskClient, logged_in: User, document_set: DocumentSet
) -> None:
    ref = document_set.all_digitizations()[0].ref
    v2 = json_body(client.get(f"/iiif/{ref}/manifest.json"))
    v2["sequences"][0]["canvases"][0]["otherContent"] = [{"@id": "x", "@type": "AnnotationPage"}]
    with pytest.raises(Exception, match="Unknown resource class AnnotationPage"):
        assert_valid_presentation(v2)
    v3 = json_body(client.get(f"/iiif/{ref}/v3/manifest.json"))
    v3["label"] = "a plain string"
    with pytest.raises(AssertionError):
        assert_valid_presentation(v3)
    v3 = json_body(client.get(f"/iiif/{ref}/v3/manifest.json"))
    v3["items"][0]["type"] = "Page"
    with pytest.raises(ValueError, match="Canvas"):
        assert_valid_presentation(v3)


def test_private_annotations_open_to_a_share_link_only(
    client: FlaskClient, logged_in: User, document_set: DocumentSet, auth: AuthActions
) -> None:
    treatment = _regions(logged_in, document_set)
    region_set = db.session.query(RegionSet).filter_by(treatment_id=treatment.id).first()
    assert region_set is not None
    viewer = client.get(f"/treatments/{treatment.id}/results").get_data(as_text=True)
    share = re.search(r'href="http://localhost(/regions/[^"]+share=[^"]+)"', viewer)
    assert share is not None
    share_url = share.group(1).replace("&amp;", "&")
    client.post("/logout")
    for path in (
        f"/regions/{region_set.ref}/manifest.json",
        f"/regions/{region_set.ref}/v3/manifest.json",
        f"/regions/{region_set.ref}/annotations/1.json",
        f"/regions/{region_set.ref}/lists/1.json",
        f"/regions/{region_set.ref}/manifest.json?share=forged",
    ):
        assert client.get(path).status_code == 404, path
    manifest = json_body(client.get(share_url))
    list_url = manifest["sequences"][0]["canvases"][0]["otherContent"][0]["@id"]
    assert "share=" in list_url
    annotations = json_body(client.get(list_url.removeprefix("http://localhost")))
    assert len(annotations["resources"]) == 2
    # Another user who may not see the set gets nothing without the link.
    make_user("eve@example.org")
    auth.login("eve@example.org")
    assert client.get(f"/regions/{region_set.ref}/manifest.json").status_code == 404


def _pairs(owner: User, document_set: DocumentSet) -> Treatment:
    treatment = _treatment(
        owner,
        document_set,
        "similarity",
        documents=[{"uid": "wit1_man1_anno1"}, {"uid": "wit1_man2_anno2"}],
    )
    for a, b, score in [
        ("wit1_man1_0001_0,0,10,10", "wit1_man2_0001_0,0,10,10", 0.95),
        ("wit1_man1_0001_0,0,10,10", "wit1_man1_0002_5,5,10,10", 0.7),
        ("wit1_man2_0001_0,0,10,10", "wit1_man2_0002_1,1,10,10", 0.4),
    ]:
        db.session.add(SimilarityPair(treatment_id=treatment.id, a=a, b=b, score=score))
    db.session.commit()
    return treatment


def _scores(html: str) -> list[str]:
    return re.findall(r"<strong>(\d\.\d{3})</strong>", html)


def test_pairs_side_by_side_with_threshold_sorting_and_document_filter(
    client: FlaskClient, logged_in: User, document_set: DocumentSet
) -> None:
    treatment = _pairs(logged_in, document_set)
    url = f"/treatments/{treatment.id}/results"
    page = client.get(url).get_data(as_text=True)
    assert _scores(page) == ["0.950", "0.700", "0.400"]
    assert page.count('class="pair"') == 3
    assert 'src="/iiif/image/wit1_man1_0001/0,0,10,10/max/0/default.jpg"' in page
    assert _scores(client.get(f"{url}?min_score=0.5").get_data(as_text=True)) == ["0.950", "0.700"]
    ascending = client.get(f"{url}?sort=score_asc").get_data(as_text=True)
    assert _scores(ascending) == ["0.400", "0.700", "0.950"]
    only = client.get(f"{url}?document=wit1_man2").get_data(as_text=True)
    assert _scores(only) == ["0.950", "0.400"]
    # Any score, in any step: the one a browser submits is the one kept, after a reload too.
    fine = client.get(f"{url}?min_score=0.9499").get_data(as_text=True)
    assert _scores(fine) == ["0.950"]
    assert 'step="any" value="0.9499"' in fine
    # Anything odd in the query string falls back to the defaults.
    for odd_score in ("abc", "nan", "-inf"):
        odd = client.get(f"{url}?min_score={odd_score}&sort=drop&document=%25&page=-3")
        assert odd.status_code == 200
        assert _scores(odd.get_data(as_text=True)) == ["0.950", "0.700", "0.400"]


def test_pairs_export_as_csv(
    client: FlaskClient, logged_in: User, document_set: DocumentSet
) -> None:
    treatment = _pairs(logged_in, document_set)
    text = client.get(f"/treatments/{treatment.id}/export/csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:4] == ["a", "b", "score", "algorithm"]
    assert [r[2] for r in rows[1:]] == ["0.95", "0.7", "0.4"]


@pytest.fixture
def named_set(logged_in: User, document_set: DocumentSet) -> DocumentSet:
    """The set's witness holds a work; its pages carry their own labels."""
    work = make_work(logged_in, "Tractatus de sphaera")
    witness = document_set.witnesses[0]
    witness.works.append(work)
    for digitization in witness.digitizations:
        for page in digitization.pages:
            page.label = f"f. {page.order}r"
    db.session.commit()
    return document_set


def test_results_name_pages_as_people_do_with_the_ref_beside(
    client: FlaskClient, logged_in: User, named_set: DocumentSet
) -> None:
    first, second = named_set.all_digitizations()
    page_ref, other_ref = first.pages[0].ref, second.pages[0].ref
    name = "<strong>MS Treated</strong>, <em>Tractatus de sphaera</em>, f. 1r"
    regions = _regions(logged_in, named_set)
    html = client.get(f"/treatments/{regions.id}/results").get_data(as_text=True)
    assert f'{name}</span> <code class="small ref">{page_ref}</code>' in html
    assert 'aria-label="MS Treated, Tractatus de sphaera, f. 1r with 2 regions"' in html

    crop, other = f"{page_ref}_0,0,10,10", f"{other_ref}_5,5,10,10"
    pairs = _treatment(
        logged_in,
        named_set,
        "similarity",
        documents=[{"uid": f"{first.ref}_anno1"}, {"uid": f"{second.ref}_anno1"}],
    )
    db.session.add(SimilarityPair(treatment_id=pairs.id, a=crop, b=other, score=0.9))
    db.session.add(
        SimilarityPair(treatment_id=pairs.id, a=crop, b="wit99_img9_0001_0,0,1,1", score=0.5)
    )
    db.session.commit()
    html = client.get(f"/treatments/{pairs.id}/results").get_data(as_text=True)
    assert f'{name}</span> <code class="small ref">{crop}</code>' in html
    assert 'alt="Region of MS Treated, Tractatus de sphaera, f. 1r"' in html
    # A crop that names no page of ours keeps its ref alone.
    assert '<br><code class="small ref">wit99_img9_0001_0,0,1,1</code>' in html
    assert f">MS Treated, Tractatus de sphaera (scan) · {first.ref}</option>" in html
    rows = list(
        csv.DictReader(
            io.StringIO(client.get(f"/treatments/{pairs.id}/export/csv").get_data(as_text=True))
        )
    )
    assert (rows[0]["a_witness"], rows[0]["a_title"], rows[0]["a_page_label"]) == (
        "MS Treated",
        "Tractatus de sphaera",
        "f. 1r",
    )
    assert (
        rows[0]["b_image_url"]
        == f"http://localhost/iiif/image/{other_ref}/5,5,10,10/max/0/default.jpg"
    )
    assert (rows[1]["b_witness"], rows[1]["b_image_url"]) == (
        "",
        "http://localhost/iiif/image/wit99_img9_0001/0,0,1,1/max/0/default.jpg",
    )

    strokes = _treatment(logged_in, named_set, "vectorization")
    db.session.add(Vectorization(treatment_id=strokes.id, crop_id=crop, svg=SVG))
    db.session.commit()
    html = client.get(f"/treatments/{strokes.id}/results").get_data(as_text=True)
    assert f'{name}</span> <code class="small ref">{crop}</code>' in html


def test_the_regions_csv_names_each_page_and_links_each_crop(
    client: FlaskClient, logged_in: User, named_set: DocumentSet
) -> None:
    treatment = _regions(logged_in, named_set)
    text = client.get(f"/treatments/{treatment.id}/export/csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text)))
    page_ref = named_set.all_digitizations()[0].pages[0].ref
    assert list(rows[0])[:3] == ["region_set", "page", "crop_id"]
    assert (rows[0]["page"], rows[0]["witness"], rows[0]["title"], rows[0]["page_label"]) == (
        page_ref,
        "MS Treated",
        "Tractatus de sphaera",
        "f. 1r",
    )
    assert (
        rows[0]["image_url"]
        == f"http://localhost/iiif/image/{page_ref}/10,20,50,40/max/0/default.jpg"
    )
    with client.get(rows[0]["image_url"].removeprefix("http://localhost")) as image:
        assert image.status_code == 200


SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 50 40"><script>alert(1)</script></svg>'


def test_strokes_are_drawn_over_their_crop_and_served_in_a_sandbox(
    client: FlaskClient,
    auth: AuthActions,
    logged_in: User,
    other_user: User,
    document_set: DocumentSet,
) -> None:
    treatment = _treatment(logged_in, document_set, "vectorization")
    item = Vectorization(treatment_id=treatment.id, crop_id="wit1_man1_0001_10,20,50,40", svg=SVG)
    db.session.add(item)
    db.session.commit()
    page = client.get(f"/treatments/{treatment.id}/results").get_data(as_text=True)
    assert 'viewBox="0 0 50 40"' in page
    assert 'href="/iiif/image/wit1_man1_0001/10,20,50,40/max/0/default.jpg"' in page
    assert f'href="/vectorizations/{item.id}.svg"' in page
    assert "<script>" not in page  # the SVG is an image, never part of the page
    svg = client.get(f"/vectorizations/{item.id}.svg")
    assert svg.mimetype == "image/svg+xml"
    assert "sandbox" in svg.headers["Content-Security-Policy"]
    archive = zipfile.ZipFile(io.BytesIO(client.get(f"/treatments/{treatment.id}/export/zip").data))
    assert archive.read("wit1_man1_0001_10,20,50,40.svg").decode() == SVG
    auth.logout()
    auth.login(other_user)
    assert client.get(f"/vectorizations/{item.id}.svg").status_code == 404
    assert client.get(f"/treatments/{treatment.id}/results").status_code == 404


@pytest.mark.parametrize(
    ("size", "width", "height", "asked"),
    [
        ("400,", 500, 300, "400,"),
        ("400,", 300, 300, "max"),
        (",140", 90, 100, "max"),
        (",140", 90, 140, "max"),
        (",140", 900, 400, ",140"),
    ],
)
def test_thumbnails_never_ask_to_enlarge_an_image(
    size: str, width: int, height: int, asked: str
) -> None:
    """IIIF level 1 servers, ours included, refuse to enlarge."""
    assert fitting(size, width, height) == asked
