"""The processing API as this app uses it (DESIGN 6): start, cancel, status, models."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

import requests
from flask import current_app

from webapp.http import http_session

if TYPE_CHECKING:
    from webapp.task_modules.base import TaskModule

log = logging.getLogger(__name__)

MODELS_CACHE_SECONDS = 300
_models_cache: dict[str, tuple[float, dict[str, str]]] = {}


class APIError(Exception):
    """The API refused or failed; the message is for people."""


class TransientAPIError(APIError):
    """Worth trying again: no connection, a timeout, a 5xx."""


def _url(route: str, *parts: str) -> str:
    return "/".join([current_app.config["API_URL"], route, *parts])


def _timeout() -> tuple[float, float]:
    return (5.0, float(current_app.config["API_TIMEOUT"]))


def _call(
    method: str,
    url: str,
    timeout: tuple[float, float] | None = None,
    retries: int = 2,
    **kwargs: Any,
) -> Any:
    """One request; its JSON answer, or an APIError saying what went wrong."""
    try:
        response = http_session(retries).request(
            method, url, timeout=timeout or _timeout(), **kwargs
        )
    except requests.Timeout as exc:
        raise TransientAPIError("The processing API did not answer in time.") from exc
    except requests.ConnectionError as exc:
        raise TransientAPIError("The processing API cannot be reached.") from exc
    except requests.RequestException as exc:
        raise TransientAPIError(f"The request to the processing API failed: {exc}") from exc
    if response.status_code >= 500:
        raise TransientAPIError(f"The processing API failed (HTTP {response.status_code}).")
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code >= 400:
        detail = _error_text(body) or response.text[:300]
        raise APIError(
            f"The processing API refused the request (HTTP {response.status_code}): {detail}"
        )
    if not isinstance(body, dict):
        raise APIError("The processing API answered something that is not a JSON object.")
    return body


def _error_text(body: Any) -> str:
    if isinstance(body, dict):
        for key in ("error", "message", "detail"):
            if body.get(key):
                return str(body[key])[:1000]
    return ""


def start(route: str, payload: dict[str, Any]) -> str:
    """POST /{route}/start; returns the tracking id."""
    body = _call("POST", _url(route, "start"), json=payload)
    tracking_id = body.get("tracking_id")
    if not tracking_id:
        # AIKON answers a failed start with HTTP 200 and {"error", "traceback"}.
        raise APIError(_error_text(body) or "The processing API gave no tracking id.")
    return str(tracking_id)


def cancel(route: str, tracking_id: str) -> None:
    body = _call("POST", _url(route, tracking_id, "cancel"))
    if body.get("error"):
        raise APIError(_error_text(body))


def offers(route: str) -> bool | None:
    """Whether the API runs this task, by its models (`GET /{route}/models`): False when it
    says it does not know it (a 4xx), None when it cannot be asked now."""
    timeout = float(current_app.config["MODELS_TIMEOUT"])
    try:
        _call("GET", _url(route, "models"), timeout=(timeout, timeout), retries=0)
    except TransientAPIError:
        return None
    except APIError:
        return False
    return True


def status(route: str, tracking_id: str) -> dict[str, Any]:
    return dict(_call("GET", _url(route, tracking_id, "status")))


def model_choices(
    module: TaskModule, fallback: dict[str, str], kinds: tuple[str | None, ...] = (None, "model")
) -> dict[str, str]:
    """`{key: label}` from GET /{route}/models, cached; the fallback while the API is down.

    The form waits for it, so it is asked briefly, once, and a failure is remembered for a
    while (MODELS_RETRY_SECONDS): a hanging API never makes the page hang on every load.
    Entries may carry a `type` (ours say "algorithm" or "feat_net"); AIKON's carry none.
    """
    config = current_app.config
    cache_key = f"{config['API_URL']}|{module.route}|{kinds}"
    cached = _models_cache.get(cache_key)
    if cached and time.monotonic() < cached[0]:
        return cached[1] or fallback
    try:
        timeout = float(config["MODELS_TIMEOUT"])
        body = _call("GET", _url(module.route, "models"), timeout=(timeout, timeout), retries=0)
    except APIError as exc:
        log.warning("models of %s unavailable: %s", module.route, exc)
        _models_cache[cache_key] = (time.monotonic() + config["MODELS_RETRY_SECONDS"], {})
        return fallback
    choices = {
        str(key): str(info.get("name") or key)
        for key, info in body.items()
        if isinstance(info, dict) and info.get("type") in kinds
    }
    _models_cache[cache_key] = (time.monotonic() + MODELS_CACHE_SECONDS, choices)
    return choices or fallback
