from flask import Blueprint

bp = Blueprint("document_sets", __name__, url_prefix="/sets")

from webapp.document_sets import routes  # noqa: E402, F401
