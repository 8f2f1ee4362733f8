"""Which language a page, an email or an API answer speaks: the user's own setting, else the
browser's (or the script's) Accept-Language, else English."""

from __future__ import annotations

from pathlib import Path
from typing import cast

from flask import has_request_context, request
from flask_babel import lazy_gettext
from flask_login import current_user

TRANSLATIONS = Path(__file__).resolve().parent / "translations"
LANGUAGES = {"en": "English", "fr": "Français"}
DEFAULT = "en"


def N_(text: str) -> str:
    """Marks a text for translation where it is defined (a label in a table, a class's
    name); it is translated where it is shown, in the reader's language."""
    return text


def _l(text: str) -> str:
    """A text translated each time it is shown, not once where it is defined: the labels
    and messages of forms, which are made when the app starts."""
    return cast(str, lazy_gettext(text))


def select_locale() -> str:
    if not has_request_context():
        return DEFAULT
    chosen = getattr(current_user, "locale", "") if current_user.is_authenticated else ""
    if chosen in LANGUAGES:
        return str(chosen)
    return request.accept_languages.best_match(list(LANGUAGES)) or DEFAULT


def locale_of(user: object) -> str:
    """The language of what is sent to a user away from any request (an email): their
    setting, else English."""
    chosen = getattr(user, "locale", "")
    return str(chosen) if chosen in LANGUAGES else DEFAULT
