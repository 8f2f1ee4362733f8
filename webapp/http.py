"""Outgoing HTTP: the session for the processing API named in the settings, and `fetch` for
URLs from outside, which goes through the outbound policy."""

from __future__ import annotations

from collections.abc import Callable

import requests
from flask import current_app
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from outbound import OutboundError, Policy, get, parse_hosts
from webapp.errors import UserError

USER_AGENT = "Scriptorium/0.1"


class Unreachable(UserError):
    """The server is away for now (no connection, a time-out, a 5xx): worth trying later."""


def http_session(retries: int = 2) -> requests.Session:
    """A session for the processing API named in the settings, with its token when one is set
    (an API that does not ask for one, such as AIKON's, ignores it)."""
    session = requests.Session()
    # After the last retry, hand back the last response rather than raise: callers read it.
    retry = Retry(
        total=retries,
        backoff_factor=0.3,
        status_forcelist=(502, 503, 504),
        allowed_methods=("GET", "HEAD"),
        raise_on_status=False,
    )
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    session.headers.update(api_credentials())
    return session


def api_credentials() -> dict[str, str]:
    token = current_app.config["API_TOKEN"]
    return {"Authorization": f"Bearer {token}"} if token else {}


def outbound_policy(max_bytes: int, seconds: float) -> Policy:
    """The outbound policy with this app's allowed private hosts (the one place it is made)."""
    return Policy(
        allowed_private=parse_hosts(current_app.config["ALLOWED_PRIVATE_HOSTS"]),
        max_bytes=max_bytes,
        seconds=seconds,
        headers={"User-Agent": USER_AGENT},
    )


def fetch(
    url: str,
    *,
    max_bytes: int,
    timeout: float,
    accept: Callable[[str], bool] | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[bytes, str]:
    """GET a URL from outside into memory, under the outbound policy, within `timeout`
    seconds in all: its body and content type, or a readable UserError (Unreachable when
    worth trying later)."""
    try:
        fetched = get(url, outbound_policy(max_bytes, timeout), accept=accept, headers=headers)
    except OutboundError as exc:
        raise (Unreachable if exc.transient else UserError)(str(exc)) from exc
    return fetched.body, fetched.content_type
