"""Live updates: one Redis subscription per process fanned out to streams, the state first on
every connect, only the work a user may see, and polling with the same fragments."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis

from tests.conftest import AuthActions, run_jobs
from tests.processing_api import ProcessingAPI, notify
from tests.streams import read_events as _read
from tests.treatment_helpers import launch, make_set, regions_file
from webapp.auth.models import User
from webapp.extensions import db
from webapp.lifecycle import Status, transition
from webapp.live.hub import Hub
from webapp.live.publish import publish_treatment
from webapp.live.streams import live_channel, sse
from webapp.templating import duration
from webapp.treatments.models import Treatment


def _subscriptions(redis: Redis, channel: str) -> int:
    counts: Any = redis.pubsub_numsub(channel)
    return int(counts[0][1])


def _running(owner: User, client: FlaskClient) -> Treatment:
    return launch(client, make_set(owner), "regions", notify_email=False)


def test_sse_text_gives_every_line_its_data_field() -> None:
    assert sse("state", "<p>\na</p>") == "event: state\ndata: <p>\ndata: a</p>\n\n"
    assert sse("end", "") == "event: end\ndata: \n\n"


def test_the_hub_fans_one_subscription_out_to_the_streams_that_want_it(
    app: Flask, redis_url: str, listening_hub: Hub
) -> None:
    redis = Redis.from_url(redis_url)
    channel = live_channel()
    before = _subscriptions(redis, channel)
    mine = [listening_hub.subscribe(lambda m: m.get("treatment_id") == "a") for _ in range(50)]
    other = listening_hub.subscribe(lambda m: m.get("treatment_id") == "b")
    # One subscription for the app's process, however many streams it holds.
    assert _subscriptions(redis, channel) == before
    redis.publish(channel, json.dumps({"treatment_id": "a", "n": 1}))
    redis.publish(channel, b"not json")
    assert all(s.next(5) == {"treatment_id": "a", "n": 1} for s in mine)
    assert other.next(0.2) is None
    for subscriber in [*mine, other]:
        listening_hub.unsubscribe(subscriber)


def test_a_stream_sends_the_state_first_then_each_change_then_ends_with_the_work(
    app: Flask,
    client: FlaskClient,
    logged_in: User,
    processing_api: ProcessingAPI,
    listening_hub: Hub,
    long_streams: None,
) -> None:
    treatment = _running(logged_in, client)
    response = client.get(f"/treatments/{treatment.id}/stream")
    assert response.mimetype == "text/event-stream"
    assert response.headers["X-Accel-Buffering"] == "no"
    (name, state), (name2, events) = _read(response, 2)
    assert (name, name2) == ("state", "events")
    assert 'data-status="STARTED"' in state
    assert "→ Started" in events

    notify(client, treatment, "PROGRESS", progress={"current": 1, "total": 2})
    run_jobs()
    (name, state), (_, events) = _read(response, 2)
    assert name == "state"
    assert 'data-progress="0/2"' in state
    assert "the processing API reports 1 of 2" in state
    assert "PROGRESS" in events

    notify(client, treatment, "SUCCESS", output={"results_url": []})
    run_jobs()
    names = [n for n, _ in _read(response, 3)]
    assert names == ["state", "events", "end"]
    response.close()


def test_a_reconnect_after_the_end_gets_the_final_state_and_the_end(
    client: FlaskClient, logged_in: User, processing_api: ProcessingAPI, listening_hub: Hub
) -> None:
    treatment = _running(logged_in, client)
    notify(client, treatment, "ERROR", error="[ValueError] bad page", completed=True)
    run_jobs()
    response = client.get(f"/treatments/{treatment.id}/stream")
    (_, state), _, (end, _) = _read(response, 3)
    assert end == "end"
    assert "bad page" in state
    assert "Relaunching runs it again" in state
    response.close()


def test_streams_end_by_themselves_and_beat_meanwhile(
    app: Flask, client: FlaskClient, logged_in: User, processing_api: ProcessingAPI
) -> None:
    treatment = _running(logged_in, client)
    started = time.monotonic()
    body = client.get(f"/treatments/{treatment.id}/stream").get_data(as_text=True)
    assert time.monotonic() - started < app.config["LIVE_STREAM_SECONDS"] + 2
    assert ": heartbeat" in body
    assert body.startswith("retry: ")


def test_users_are_sent_only_what_they_may_see(
    client: FlaskClient,
    auth: AuthActions,
    logged_in: User,
    other_user: User,
    processing_api: ProcessingAPI,
    listening_hub: Hub,
    long_streams: None,
) -> None:
    mine = _running(logged_in, client)
    auth.logout()
    auth.login(other_user)
    theirs = _running(other_user, client)
    assert client.get(f"/treatments/{mine.id}/stream").status_code == 404
    response = client.get("/treatments/stream")
    ((first, _),) = _read(response, 1)
    assert first == f"row-{theirs.id}"  # the state first: their own treatments only
    publish_treatment(mine)
    publish_treatment(theirs)
    ((name, row),) = _read(response, 1)
    assert name == f"row-{theirs.id}"
    assert f'id="row-{theirs.id}"' in row
    response.close()


def test_the_list_stream_says_a_new_treatment_is_new_so_lists_add_its_row(
    client: FlaskClient,
    logged_in: User,
    processing_api: ProcessingAPI,
    listening_hub: Hub,
    long_streams: None,
) -> None:
    running = _running(logged_in, client)
    response = client.get("/treatments/stream")
    ((first, _),) = _read(response, 1)
    assert first == f"row-{running.id}"
    made = running.another_run(running.documents)
    db.session.add(made)
    db.session.commit()
    publish_treatment(made)  # PENDING: just made
    (new, (name, _row)) = _read(response, 2)
    assert new[0] == "new-row"
    assert f'id="row-{made.id}"' in new[1]
    assert name == f"row-{made.id}"
    publish_treatment(running)  # known already: its row is only updated
    ((again, _),) = _read(response, 1)
    assert again == f"row-{running.id}"
    response.close()


def test_a_workflow_steps_parts_have_no_row_in_the_live_list(
    client: FlaskClient,
    logged_in: User,
    processing_api: ProcessingAPI,
    listening_hub: Hub,
    long_streams: None,
) -> None:
    step = _running(logged_in, client)
    part = step.another_run(step.documents, part_of_id=step.id)
    db.session.add(part)
    db.session.commit()
    response = client.get("/treatments/stream")
    ((first, _),) = _read(response, 1)
    assert first == f"row-{step.id}"  # the state first: the part is not a row
    publish_treatment(part)
    publish_treatment(step)
    ((name, _row),) = _read(response, 1)
    assert name == f"row-{step.id}"
    response.close()


def test_polling_shows_the_same_fragments_and_a_page_stops_at_the_end(
    client: FlaskClient, logged_in: User, processing_api: ProcessingAPI
) -> None:
    treatment = _running(logged_in, client)
    running = client.get(f"/treatments/{treatment.id}/live")
    assert running.status_code == 200
    assert 'id="state"' in running.get_data(as_text=True)
    rows = client.get("/treatments/rows")
    assert rows.status_code == 200
    assert f'id="row-{treatment.id}"' in rows.get_data(as_text=True)
    notify(client, treatment, "SUCCESS", output={"results_url": []})
    run_jobs()
    ended = client.get(f"/treatments/{treatment.id}/live")
    assert ended.status_code == 286
    assert "Succeeded" in ended.get_data(as_text=True)
    # The list goes on polling: a treatment made meanwhile is added there.
    assert client.get("/treatments/rows").status_code == 200


def test_the_page_connects_while_the_work_runs_and_not_after(
    client: FlaskClient, logged_in: User, processing_api: ProcessingAPI
) -> None:
    treatment = _running(logged_in, client)
    page = client.get(f"/treatments/{treatment.id}").get_data(as_text=True)
    assert f'sse-connect="/treatments/{treatment.id}/stream"' in page
    assert f'data-poll="/treatments/{treatment.id}/live"' in page
    assert 'name="csrf-token"' in page
    assert transition(treatment, Status.CANCELLED)
    page = client.get(f"/treatments/{treatment.id}").get_data(as_text=True)
    assert "sse-connect" not in page
    assert "This treatment was cancelled" in page


def _comparable(html: str) -> str:
    """A fragment with its tokens blanked and its spacing folded, so that a page and a
    fragment can be compared whoever they were rendered for."""
    return " ".join(re.sub(r'name="csrf_token" value="[^"]*"', "", html).split())


def _inside(html: str, start: str, end: str) -> str:
    """What lies inside the element whose opening tag starts with `start`, up to `end`."""
    opened = html.index(start)
    return _comparable(html[html.index(">", opened) + 1 : html.index(end, opened)])


def _three_views(client: FlaskClient, treatment: Treatment) -> list[tuple[str, str]]:
    """The state and the events as the page, polling and the stream show them."""
    views = []
    for url in (f"/treatments/{treatment.id}", f"/treatments/{treatment.id}/live"):
        html = client.get(url).get_data(as_text=True)
        views.append(
            (
                _inside(html, '<section class="card" id="state"', "</section>"),
                _inside(html, '<tbody id="events"', "</tbody>"),
            )
        )
    stream = client.get(f"/treatments/{treatment.id}/stream")
    (_, state), (_, events) = _read(stream, 2)
    stream.close()
    return [*views, (_comparable(state), _comparable(events))]


def test_the_page_polling_and_stream_show_the_same_state_events_and_results(
    client: FlaskClient, logged_in: User, processing_api: ProcessingAPI, listening_hub: Hub
) -> None:
    treatment = _running(logged_in, client)
    first, second = treatment.document_uids
    url = processing_api.serve("/r.json", regions_file(first, boxes=3))
    notify(
        client,
        treatment,
        "PROGRESS",
        output={"results_url": [{"doc_id": first, "result_url": url}]},
        progress={"current": 1, "total": 2},
    )
    run_jobs()
    page, polled, streamed = _three_views(client, treatment)
    assert page == polled == streamed
    state, events = page
    assert "1 of 2 documents done" in state
    assert "<strong>3</strong> regions found" in state
    assert "PROGRESS" in events

    url = processing_api.serve("/r2.json", regions_file(second, boxes=1))
    notify(
        client,
        treatment,
        "SUCCESS",
        output={"results_url": [{"doc_id": second, "result_url": url}]},
    )
    run_jobs()
    page, polled, streamed = _three_views(client, treatment)
    assert page == polled == streamed
    state, events = page
    assert "2 of 2 documents done" in state
    assert "<strong>4</strong> regions found" in state
    assert "View the results" in state
    assert "SUCCESS" in events
    assert "No notification received yet" not in events


def test_streamed_forms_carry_no_ones_token(
    app: Flask, client: FlaskClient, logged_in: User, processing_api: ProcessingAPI
) -> None:
    treatment = _running(logged_in, client)
    from webapp.live.publish import fragments

    with app.test_request_context():
        state = fragments(treatment)["state"]
    assert 'name="csrf_token" value=""' in state
    page = client.get(f"/treatments/{treatment.id}").get_data(as_text=True)
    assert 'name="csrf_token" value=""' not in page


def test_each_status_has_its_own_label_and_icon() -> None:
    assert len({s.label for s in Status}) == len(Status)
    assert len({s.icon for s in Status}) == len(Status)
    assert Status.CANCELLED.label not in {Status.SUCCESS.label, "Info"}


@pytest.mark.parametrize(
    ("seconds", "said"),
    [(20, "less than a minute"), (240, "about 4 min"), (7800, "about 2 h 10")],
)
def test_durations_read_as_people_say_them(seconds: float, said: str) -> None:
    assert duration(seconds) == said


def test_an_eta_once_there_is_a_pace(app: Flask, logged_in: User) -> None:
    from datetime import timedelta

    from webapp.columns import utcnow

    treatment = Treatment(
        task_type="regions",
        owner_id=logged_in.id,
        documents=[{"uid": str(i)} for i in range(4)],
        done_documents=[],
        status=Status.IN_PROGRESS,
    )
    assert treatment.eta_seconds is None  # not started
    treatment.started_at = utcnow() - timedelta(seconds=60)
    assert treatment.eta_seconds is None  # nothing done yet
    treatment.done_documents = ["0"]
    eta: Any = treatment.eta_seconds
    assert 170 < eta < 190
    treatment.api_current, treatment.api_total = 2, 4
    assert 50 < treatment.eta_seconds < 70  # type: ignore[operator]
