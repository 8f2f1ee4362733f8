from flask import Blueprint

bp = Blueprint("treatments", __name__, url_prefix="/treatments")

from webapp.treatments import routes  # noqa: E402, F401
