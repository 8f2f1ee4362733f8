from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from webapp.auth.models import User
from webapp.extensions import db


def test_users_create_and_list(app: Flask) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "users",
            "create",
            "Curie@Example.org",
            "--password",
            "long enough",
            "--admin",
            "--name",
            "Marie",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "created administrator curie@example.org" in result.output.lower()
    user = db.session.scalar(select(User))
    assert user is not None
    assert user.is_admin
    assert user.check_password("long enough")
    listing = runner.invoke(args=["users", "list"])
    assert "Marie" in listing.output
    assert "(admin)" in listing.output


def test_users_create_refuses_bad_input(app: Flask) -> None:
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["users", "create", "a@example.org", "--password", "long enough"])
    assert ok.exit_code == 0
    cases = {
        ("a@example.org", "long enough"): "already exists",
        ("A@EXAMPLE.ORG", "long enough"): "already exists",
        ("not-an-email", "long enough"): "Not a valid email address",
        ("b@example.org", "short"): "at least 8 characters",
    }
    for (email, password), message in cases.items():
        result = runner.invoke(args=["users", "create", email, "--password", password])
        assert result.exit_code == 1
        assert message in result.output
    assert len(db.session.scalars(select(User)).all()) == 1
