"""What every template may use beyond Flask's defaults."""

from __future__ import annotations

from flask import Flask
from flask_babel import get_locale, gettext

from webapp.i18n import LANGUAGES
from webapp.iiif.links import crop_url, fitting, image_url
from webapp.lifecycle import Status
from webapp.readable import as_text, readable_error
from webapp.sharing import VISIBILITIES
from webapp.timeline.record import action_label, entries_of


def duration(seconds: float) -> str:
    """A span of time as people say it: "less than a minute", "about 4 min", "about 2 h 10"."""
    minutes = round(seconds / 60)
    if minutes < 1:
        return str(gettext("less than a minute"))
    if minutes < 60:
        return str(gettext("about %(minutes)s min", minutes=minutes))
    return str(
        gettext("about %(hours)s h %(minutes)s", hours=minutes // 60, minutes=f"{minutes % 60:02d}")
    )


def init_templating(app: Flask) -> None:
    app.jinja_env.globals.update(
        Status=Status,
        image_url=image_url,
        crop_url=crop_url,
        fitting=fitting,
        current_locale=lambda: str(get_locale()),
        LANGUAGES=LANGUAGES,
        VISIBILITIES=VISIBILITIES,
        timeline_of=entries_of,
        action_label=action_label,
    )
    app.jinja_env.filters["duration"] = duration
    # A notification may carry any JSON value where text is expected: every one renders.
    app.jinja_env.filters["as_text"] = as_text
    app.jinja_env.filters["readable_error"] = readable_error
