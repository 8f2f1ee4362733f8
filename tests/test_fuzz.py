"""Arbitrary path parts, query strings and bodies at every route of the web app and of the
processor: whatever arrives, the answer is never a 5xx."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.routing import Rule

from tests.conftest import PASSWORD
from tests.factories import make_digitization, make_witness
from tests.processor_harness import Processor
from tests.treatment_helpers import make_set
from webapp.auth.models import User

TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)
NUMBER_TEXT = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(["2147483648", "9" * 400, "²", "١٢", "0x10", "1e309", "-1", "9999-12-31"]),
)
VALUE = st.one_of(TEXT, NUMBER_TEXT, st.just("\x00"), st.just("a\x00b"))


def _nested(depth: int) -> str:
    return '{"a":[' * depth + "1" + "]}" * depth


JSON_BODY = st.one_of(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
        max_leaves=12,
    ).map(json.dumps),
    st.sampled_from([100, 5000, 20000]).map(_nested),
    st.fixed_dictionaries({"event": TEXT, "experiment_id": TEXT, "tracking_id": VALUE}).map(
        json.dumps
    ),
)
QUERY_NAMES = ["page", "q", "until", "since", "id", "status", "token", "key", "share", "next"]
SETTINGS = settings(
    max_examples=600,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _path(rule: Rule, values: dict[str, str]) -> str:
    def part(match: re.Match[str]) -> str:
        name = match.group(1).split(":")[-1]
        return values.get(name, "x")

    return re.sub(r"<([^>]+)>", part, rule.rule)


def _request(client: FlaskClient, rule: Rule, data: st.DataObject) -> int:
    values = {
        name: data.draw(st.one_of(VALUE, st.just("1")).filter(lambda v: v and "/" not in v))
        for name in rule.arguments
    }
    path = _path(rule, {k: v.replace("?", "").replace("#", "") for k, v in values.items()})
    method = data.draw(st.sampled_from(sorted((rule.methods or {"GET"}) - {"HEAD", "OPTIONS"})))
    query = data.draw(
        st.dictionaries(
            st.sampled_from(
                [
                    "page",
                    "q",
                    "until",
                    "since",
                    "id",
                    "status",
                    "token",
                    "key",
                    "share",
                    "next",
                    "task_type",
                    "x",
                ]
            ),
            VALUE,
            max_size=3,
        )
    )
    kind = data.draw(st.sampled_from(["form", "json", "raw"]))
    g.pop("_login_user", None)
    kwargs: dict[str, Any] = {"query_string": query}
    if method != "GET":
        if kind == "form":
            kwargs["data"] = data.draw(st.dictionaries(TEXT, VALUE, max_size=4))
        elif kind == "json":
            kwargs["data"] = data.draw(JSON_BODY)
            kwargs["content_type"] = "application/json"
        else:
            kwargs["data"] = data.draw(st.binary(max_size=200))
    with client.open(path, method=method, **kwargs) as response:
        return response.status_code


@pytest.fixture
def fuzzed(app: Flask, client: FlaskClient, admin: User) -> FlaskClient:
    """An administrator's session, with one of each thing for ids to find."""
    document_set = make_set(admin)
    make_digitization(make_witness(admin), pages=1)
    assert document_set.id
    client.post("/login", data={"email": admin.email, "password": PASSWORD})
    return client


def test_no_route_of_the_web_app_answers_5xx(app: Flask, fuzzed: FlaskClient) -> None:
    # Logging out would end the session the other requests are made in.
    rules = [r for r in app.url_map.iter_rules() if r.endpoint not in {"static", "auth.logout"}]
    assert len(rules) > 40

    @SETTINGS
    @given(data=st.data())
    def any_request(data: st.DataObject) -> None:
        rule = data.draw(st.sampled_from(rules))
        status = _request(fuzzed, rule, data)
        assert status < 500, rule.rule

    any_request()


def test_no_route_of_the_processor_answers_5xx(processor: Processor) -> None:
    rules = [r for r in processor.app.url_map.iter_rules() if r.endpoint != "static"]

    @SETTINGS
    @given(data=st.data())
    def any_request(data: st.DataObject) -> None:
        rule = data.draw(st.sampled_from(rules))
        assert _request(processor.client, rule, data) < 500, rule.rule

    any_request()
