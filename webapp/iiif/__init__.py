from flask import Blueprint

bp = Blueprint("iiif", __name__, url_prefix="/iiif")

from webapp.iiif import routes, viewer  # noqa: E402, F401
