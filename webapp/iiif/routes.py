from __future__ import annotations

from flask import Response, abort, jsonify, redirect, send_file, url_for
from flask.typing import ResponseReturnValue
from PIL import Image

from webapp import storage
from webapp.catalog.lookup import digitization_or_404, page_or_404
from webapp.iiif import bp
from webapp.iiif.image_api import (
    InvalidImageRequest,
    check_rotation_and_format,
    info,
    parse_region,
    parse_size,
    render,
)
from webapp.iiif.manifests import build_manifest
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


@bp.get("/<ref>/manifest.json")
@public("IIIF_PUBLIC")
def manifest(ref: str) -> ResponseReturnValue:
    digitization = digitization_or_404(ref)
    response = jsonify(build_manifest(digitization))
    response.headers["Content-Type"] = "application/ld+json"
    return response


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
    response = jsonify(info(service_id, page.width, page.height))
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
    width, height = parse_size(size, box)
    original = storage.absolute(page.file)
    if not original.is_file():
        abort(404)
    if (box.w, box.h) == (page.width, page.height) == (width, height):
        path = original
    else:
        path = storage.absolute(
            f"cache/iiif/{page.digitization_id}/{page.order}/"
            f"{box.x},{box.y},{box.w},{box.h}_{width}x{height}.jpg"
        )
        if not path.is_file():
            with Image.open(original) as source:
                storage.write_atomically(path, render(source, box, (width, height)))
    return send_file(path, mimetype="image/jpeg", max_age=CACHE_SECONDS)
