"""GET and POST under a `Policy`: checked connections, checked redirects, a budget, a cap."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util.connection import create_connection

from outbound.policy import Policy
from outbound.redact import redacted

REDIRECTS = frozenset({301, 302, 303, 307, 308})


class OutboundError(Exception):
    """A request that did not give what was asked; `transient` if worth trying later."""

    transient = False


class Refused(OutboundError):
    """The policy refuses the URL or one of its redirects. One message for every reason."""

    def __init__(self, url: str) -> None:
        super().__init__(
            f"{redacted(url)} is not fetched: only public http(s) addresses are, and this one "
            "is not (or it could not be resolved)."
        )


class Unavailable(OutboundError):
    """No answer for now: no connection, a time-out, a 5xx or a 429."""

    transient = True


class Unwanted(OutboundError):
    """An answer, but not a usable one (a 4xx, a redirect loop)."""


class TooLarge(OutboundError):
    """More bytes than the cap."""


@dataclass(frozen=True)
class Fetched:
    body: bytes
    content_type: str
    url: str
    status: int
    headers: dict[str, str]


class _PolicyRefusal(Exception):
    """Raised inside a connection; it is not an OSError, so urllib3 lets it through."""


def _guarded_connect(conn: HTTPConnection, policy: Policy) -> socket.socket:
    try:
        infos = socket.getaddrinfo(conn._dns_host, conn.port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise _PolicyRefusal from exc
    addresses = [str(info[4][0]) for info in infos]
    if not addresses or not all(policy.permits(conn.host, conn.port, a) for a in addresses):
        raise _PolicyRefusal
    last: OSError | None = None
    for address in dict.fromkeys(addresses):
        try:
            # An address literal: create_connection resolves nothing more.
            return create_connection(
                (address, conn.port),
                conn.timeout,
                source_address=conn.source_address,
                socket_options=conn.socket_options,
            )
        except TimeoutError as exc:
            raise ConnectTimeoutError(conn, f"Connection to {conn.host} timed out.") from exc
        except OSError as exc:
            last = exc
    raise NewConnectionError(conn, f"Failed to establish a new connection: {last}")


def _adapter(policy: Policy) -> HTTPAdapter:
    def new_conn(self: HTTPConnection) -> socket.socket:
        return _guarded_connect(self, policy)

    connection = type("GuardedHTTPConnection", (HTTPConnection,), {"_new_conn": new_conn})
    secure = type("GuardedHTTPSConnection", (HTTPSConnection,), {"_new_conn": new_conn})
    pools = {
        "http": type("GuardedPool", (HTTPConnectionPool,), {"ConnectionCls": connection}),
        "https": type("GuardedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": secure}),
    }
    adapter = HTTPAdapter(max_retries=0)
    adapter.poolmanager.pool_classes_by_scheme = pools
    return adapter


def _session(policy: Policy) -> requests.Session:
    session = requests.Session()
    # No proxy from the environment: the checked address must be the one connected to.
    session.trust_env = False
    session.mount("http://", _adapter(policy))
    session.mount("https://", _adapter(policy))
    session.headers.update(policy.headers)
    return session


def _checked_url(given: Any) -> str:
    if not isinstance(given, str):
        raise Refused(repr(given))
    url = given.strip()
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise Refused(url) from None
    if parts.scheme not in {"http", "https"} or not parts.hostname or "\x00" in url:
        raise Refused(url)
    return url


def _remaining(deadline: float, url: str) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise Unavailable(f"{redacted(url)} did not answer in time.")
    return left


def _read(response: requests.Response, policy: Policy, deadline: float, url: str) -> bytes:
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > policy.max_bytes:
        raise TooLarge(f"{redacted(url)} is over the {policy.max_bytes / 2**20:.3g} MB limit.")
    body = bytearray()
    for chunk in response.iter_content(64 * 1024):
        body += chunk
        if len(body) > policy.max_bytes:
            raise TooLarge(f"{redacted(url)} is over the {policy.max_bytes / 2**20:.3g} MB limit.")
        _remaining(deadline, url)
    return bytes(body)


def _send(
    method: str,
    url: str,
    policy: Policy,
    *,
    accept: Callable[[str], bool] | None,
    follow: bool,
    judge: bool,
    data: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Fetched:
    deadline = time.monotonic() + policy.seconds
    current = _checked_url(url)
    origin = urlsplit(current)[:2]
    with _session(policy) as session:
        for _ in range(policy.max_redirects + 1):
            if accept is not None and not accept(current):
                raise Refused(current)
            if urlsplit(current)[:2] != origin:
                # Credentials meant for the first server go to no other.
                headers = None
            left = _remaining(deadline, current)
            try:
                with session.request(
                    method,
                    current,
                    data=data,
                    headers=headers,
                    timeout=(min(5.0, left), left),
                    stream=True,
                    allow_redirects=False,
                ) as response:
                    if follow and response.status_code in REDIRECTS:
                        target = response.headers.get("Location", "")
                        current = _checked_url(urljoin(current, target))
                        if response.status_code == 303:
                            method, data = "GET", None
                        continue
                    status = response.status_code
                    if judge and (status >= 500 or status == 429):
                        raise Unavailable(f"{redacted(current)} answered HTTP {status}.")
                    if judge and status >= 300:
                        raise Unwanted(f"{redacted(current)} answered HTTP {status}.")
                    body = _read(response, policy, deadline, current)
                    kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
                    return Fetched(body, kind, current, status, dict(response.headers))
            except _PolicyRefusal:
                raise Refused(current) from None
            except requests.Timeout as exc:
                raise Unavailable(f"{redacted(current)} did not answer in time.") from exc
            except requests.ConnectionError as exc:
                cause = exc.__context__
                while cause is not None:
                    if isinstance(cause, _PolicyRefusal):
                        raise Refused(current) from None
                    cause = cause.__context__
                raise Unavailable(f"{urlsplit(current).netloc} cannot be reached.") from exc
            except requests.RequestException as exc:
                raise Unwanted(
                    f"{redacted(current)} could not be fetched ({type(exc).__name__})."
                ) from exc
    raise Unwanted(f"{redacted(url)} redirects more than {policy.max_redirects} times.")


def get(
    url: Any,
    policy: Policy,
    *,
    accept: Callable[[str], bool] | None = None,
    headers: dict[str, str] | None = None,
) -> Fetched:
    """GET a URL and its redirects under the policy; `accept` may refuse any hop's URL;
    `headers` go to the first URL's origin only. A server that is away is asked again a
    few times, within the time budget."""
    deadline = time.monotonic() + policy.seconds
    attempt = 0
    while True:
        budget = replace(policy, seconds=deadline - time.monotonic())
        try:
            return _send(
                "GET", url, budget, accept=accept, follow=True, judge=True, headers=headers
            )
        except Unavailable:
            pause = 0.3 * 2**attempt
            if attempt == policy.retries or time.monotonic() + pause >= deadline:
                raise
            time.sleep(pause)
            attempt += 1


def post(url: Any, policy: Policy, *, data: bytes, headers: dict[str, str]) -> Fetched:
    """POST to a URL under the policy and hand back its answer, whatever its status: a
    redirect is an answer too, not followed (a notification is never replayed elsewhere)."""
    return _send(
        "POST", url, policy, accept=None, follow=False, judge=False, data=data, headers=headers
    )
