from __future__ import annotations

import socket
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from flask import Response, abort, current_app, jsonify, redirect, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from webapp import storage
from webapp.catalog.lookup import digitization_or_404, page_or_404
from webapp.iiif import bp
from webapp.iiif.image_api import (
    InvalidImageRequest,
    Limits,
    check_rotation_and_format,
    info,
    parse_region,
    parse_size,
    render,
)
from webapp.iiif.manifests import manifest_v2, manifest_v3
from webapp.iiif.rendition_cache import keep_within_bound, rendition_path
from webapp.pyramids import pyramid
from webapp.rate_limits import hit
from webapp.security import public

CACHE_SECONDS = 86_400


@bp.after_request
def allow_any_origin(response: Response) -> Response:
    # IIIF clients (viewers, the processing API) read these from other origins.
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.errorhandler(InvalidImageRequest)
def invalid_request(error: InvalidImageRequest) -> ResponseReturnValue:
    return jsonify(error="Bad Request", message=str(error)), 400


def presentation(document: dict[str, Any], version: int) -> Response:
    """A Presentation API document, typed as the specification asks of its version."""
    response = jsonify(document)
    response.headers["Content-Type"] = (
        f'application/ld+json;profile="http://iiif.io/api/presentation/{version}/context.json"'
    )
    return response


@bp.get("/<ref>/manifest.json")
@public("IIIF_PUBLIC")
def manifest(ref: str) -> ResponseReturnValue:
    return presentation(manifest_v2(digitization_or_404(ref)), 2)


@bp.get("/<ref>/v3/manifest.json", endpoint="manifest_v3")
@public("IIIF_PUBLIC")
def manifest_v3_route(ref: str) -> ResponseReturnValue:
    return presentation(manifest_v3(digitization_or_404(ref)), 3)


@bp.get("/image/<page_ref>")
@public("IIIF_PUBLIC")
def image_base(page_ref: str) -> ResponseReturnValue:
    page_or_404(page_ref)
    return redirect(url_for("iiif.image_info", page_ref=page_ref), code=303)


@bp.get("/image/<page_ref>/info.json")
@public("IIIF_PUBLIC")
def image_info(page_ref: str) -> ResponseReturnValue:
    page = page_or_404(page_ref)
    service_id = url_for("iiif.image_base", page_ref=page_ref, _external=True)
    response = jsonify(info(service_id, page.width, page.height, limits()))
    response.headers["Content-Type"] = "application/ld+json"
    return response


@bp.get("/image/<page_ref>/<region>/<size>/<rotation>/<quality>.<fmt>")
@public("IIIF_PUBLIC")
def image(
    page_ref: str, region: str, size: str, rotation: str, quality: str, fmt: str
) -> ResponseReturnValue:
    page = page_or_404(page_ref)
    check_rotation_and_format(rotation, quality, fmt)
    box = parse_region(region, page.width, page.height)
    width, height = parse_size(size, box, limits())
    original = storage.absolute(page.file)
    if not original.is_file():
        abort(404)
    if (box.w, box.h) == (page.width, page.height) == (width, height):
        path = original
    else:
        path = rendition_path(page.digitization_id, page.order, box, (width, height))
        if not path.is_file():
            if not current_user.is_authenticated and not _from_processing_api():
                address = request.remote_addr or "unknown"
                if not hit("IIIF_RENDER_RATE_LIMIT", "iiif-render", address):
                    abort(429, "Too many new image renditions; try again in a minute.")
            storage.write_atomically(path, render(pyramid(original), box, (width, height)))
            keep_within_bound()
    return send_file(path, mimetype="image/jpeg", max_age=CACHE_SECONDS)


def limits() -> Limits:
    config = current_app.config
    side = config["IIIF_MAX_SIDE"]
    return Limits(side, side, config["IIIF_MAX_AREA"])


@cache
def _addresses_of(host: str) -> frozenset[str]:
    try:
        return frozenset(str(info[4][0]) for info in socket.getaddrinfo(host, None))
    except OSError:
        return frozenset()


def _from_processing_api() -> bool:
    """The processing API reads a page, or a crop, for every document it is given: its
    renders are never held back by the limit on anonymous ones."""
    host = urlsplit(current_app.config["API_URL"]).hostname or ""
    return request.remote_addr in _addresses_of(host)
