from flask import Blueprint

bp = Blueprint("treatments", __name__, url_prefix="/treatments")

from webapp.treatments import live, routes  # noqa: E402, F401
