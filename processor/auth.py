"""Who may call the processor: holders of API_TOKEN, or, when none is set, loopback only."""

from __future__ import annotations

import hmac
import ipaddress

from flask import Flask, current_app, jsonify, request
from flask.typing import ResponseReturnValue

OPEN_ENDPOINTS = frozenset({"api.health", "static"})


def _loopback(address: str | None) -> bool:
    try:
        return address is not None and ipaddress.ip_address(address.strip("[]")).is_loopback
    except ValueError:
        return address == "localhost"


def check_listen_host(app: Flask) -> None:
    """Refuse to serve beyond loopback without a token: whoever reached the processor could
    start jobs that fetch what it can reach, and post signed notifications anywhere."""
    host = app.config["LISTEN_HOST"]
    if not app.config["API_TOKEN"] and not _loopback(host):
        raise RuntimeError(
            f"The processor will not listen on {host} without API_TOKEN: anyone who reaches "
            "it could start and cancel jobs. Set API_TOKEN (the web app sends the same one), "
            "or listen on 127.0.0.1."
        )


def authenticate() -> ResponseReturnValue | None:
    """Before every request: 401 JSON without the bearer token (`/healthz` excepted)."""
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    token: str = current_app.config["API_TOKEN"]
    if not token:
        if _loopback(request.remote_addr):
            return None
        return jsonify(error="This processor answers loopback only: it has no API_TOKEN."), 401
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(given.encode(), token.encode()):
        return None
    response = jsonify(error="A bearer token (API_TOKEN) is needed.")
    response.headers["WWW-Authenticate"] = 'Bearer realm="processor"'
    return response, 401
