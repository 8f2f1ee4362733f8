"""schemathesis against the OpenAPI document: every operation, with a token, answers no server
error and nothing that breaks its own schema."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance
from schemathesis.core.result import Ok

from tests.treatment_helpers import make_set
from webapp.auth.accounts import issue_token
from webapp.auth.models import User

EXAMPLES = 30


def test_every_operation_keeps_to_its_schema(
    app: Flask, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "API_TOKEN_RATE_LIMIT", "100000 per minute")
    make_set(user)
    headers = {"Authorization": f"Bearer {issue_token(user, 'schemathesis')}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    results = list(schema.get_all_operations())
    # An operation the document describes wrongly is a failure of its own.
    assert all(isinstance(result, Ok) for result in results), results
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) >= 7

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        )
        def keeps_to_its_schema(case: Any) -> None:
            # Data the schema allows may still be refused: a set that does not exist, a
            # parameter the task does not take (the schema cannot know either).
            case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

        keeps_to_its_schema()
