from flask import Blueprint

bp = Blueprint("workflows", __name__, url_prefix="/workflows")

from webapp.workflows import routes  # noqa: E402, F401
