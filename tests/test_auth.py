from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import PASSWORD, AuthActions, json_body
from webapp.auth.models import User
from webapp.extensions import db


def test_login_page_is_public_and_the_rest_is_not(client: FlaskClient) -> None:
    assert client.get("/login").status_code == 200
    response = client.get("/catalog/witnesses/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_programs_get_401_json_instead_of_a_redirect(client: FlaskClient) -> None:
    response = client.get("/sets/", headers={"Accept": "application/json"})
    assert response.status_code == 401
    assert json_body(response)["error"] == "Unauthorized"


def test_login_then_logout(client: FlaskClient, auth: AuthActions, user: User) -> None:
    auth.login(user)
    assert client.get("/catalog/witnesses/").status_code == 200
    auth.logout()
    assert client.get("/catalog/witnesses/").status_code == 302


def test_wrong_password_and_unknown_email_are_refused_alike(
    client: FlaskClient, user: User
) -> None:
    for email, password in [(user.email, "wrong password"), ("nobody@example.org", PASSWORD)]:
        response = client.post("/login", data={"email": email, "password": password})
        assert response.status_code == 200
        assert "Wrong email or password." in response.get_data(as_text=True)


def test_email_is_matched_without_case(auth: AuthActions, user: User) -> None:
    auth.login(user.email.upper())


def test_inactive_user_cannot_log_in(client: FlaskClient, user: User) -> None:
    user.active = False
    db.session.commit()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 200


def test_login_redirects_only_to_this_site(client: FlaskClient, user: User) -> None:
    data = {"email": user.email, "password": PASSWORD}
    response = client.post("/login?next=/sets/", data=data)
    assert response.headers["Location"] == "/sets/"
    client.post("/logout")
    for target in ["https://evil.example/", "//evil.example/x", "/\\evil.example"]:
        response = client.post(f"/login?next={target}", data=data)
        assert "evil" not in response.headers["Location"]
        client.post("/logout")


def test_login_is_rate_limited_per_address(client: FlaskClient, user: User) -> None:
    codes = [
        client.post("/login", data={"email": f"{n}{user.email}", "password": "nope"}).status_code
        for n in range(11)
    ]
    assert codes[:10] == [200] * 10
    assert codes[10] == 429


def test_user_changes_their_password(
    client: FlaskClient, auth: AuthActions, logged_in: User
) -> None:
    bad = client.post(
        "/account/password",
        data={"current": "not it", "new": "new password 1", "confirm": "new password 1"},
    )
    assert "This is not your current password." in bad.get_data(as_text=True)
    mismatch = client.post(
        "/account/password",
        data={"current": PASSWORD, "new": "new password 1", "confirm": "other password"},
    )
    assert "The passwords differ." in mismatch.get_data(as_text=True)
    short = client.post(
        "/account/password", data={"current": PASSWORD, "new": "short", "confirm": "short"}
    )
    assert "at least 8" in short.get_data(as_text=True)
    ok = client.post(
        "/account/password",
        data={"current": PASSWORD, "new": "new password 1", "confirm": "new password 1"},
    )
    assert ok.status_code == 302
    auth.logout()
    auth.login(logged_in, "new password 1")


def test_csrf_token_is_required(
    app: Flask, client: FlaskClient, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)


def test_passwords_are_hashed(app: Flask, user: User) -> None:
    assert PASSWORD not in user.password_hash
    assert user.check_password(PASSWORD)


def test_security_headers(client: FlaskClient) -> None:
    response = client.get("/login")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_session_cookie_is_http_only(client: FlaskClient, auth: AuthActions, user: User) -> None:
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
