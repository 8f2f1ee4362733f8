"""The one outgoing HTTP setup: timeouts, retries on transient failures, size caps."""

from __future__ import annotations

from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from webapp.errors import UserError

USER_AGENT = "Scriptorium/0.1"


class Unreachable(UserError):
    """The server is away for now (no connection, a time-out, a 5xx): worth trying later."""


def http_session(retries: int = 2) -> requests.Session:
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
    return session


def check_http_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise UserError(f"{url!r} is not an http(s) URL.")
    return url


def fetch(
    url: str, *, max_bytes: int, timeout: float, session: requests.Session | None = None
) -> tuple[bytes, str]:
    """GET a URL into memory; returns its body and content type, or a readable UserError."""
    url = check_http_url(url)
    client = session or http_session()
    try:
        with client.get(url, timeout=timeout, stream=True) as response:
            if response.status_code >= 500 or response.status_code == 429:
                raise Unreachable(f"{url} answered HTTP {response.status_code}.")
            if response.status_code != 200:
                raise UserError(f"{url} answered HTTP {response.status_code}.")
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise UserError(f"{url} is larger than the {max_bytes // 1_000_000} MB limit.")
            body = bytearray()
            for chunk in response.iter_content(64 * 1024):
                body.extend(chunk)
                if len(body) > max_bytes:
                    raise UserError(f"{url} is larger than the {max_bytes // 1_000_000} MB limit.")
            content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
            return bytes(body), content_type
    except requests.Timeout as exc:
        raise Unreachable(f"{url} did not answer within {timeout:g} seconds.") from exc
    except requests.ConnectionError as exc:
        raise Unreachable(f"Could not connect to {urlsplit(url).netloc}.") from exc
    except requests.RequestException as exc:
        raise UserError(f"Could not fetch {url}: {type(exc).__name__}.") from exc
