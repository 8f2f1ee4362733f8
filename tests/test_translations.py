"""English and French: the language is the user's setting, else the browser's; pages, state
names, emails and API errors follow it; the French catalogue holds every text extracted, and
the compiled one is the catalogue as it stands."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale

from tests.conftest import json_body, run_jobs
from tests.processing_api import ProcessingAPI, notify
from tests.test_api import _bearer, _token
from tests.treatment_helpers import launch, make_set
from tests.untranslated import untranslated
from webapp import ROOT
from webapp.auth.models import User
from webapp.extensions import db
from webapp.lifecycle import Status

CATALOGUE = ROOT / "webapp" / "translations" / "fr" / "LC_MESSAGES"
TEMPLATES = sorted(
    str(p.relative_to(ROOT / "templates")) for p in (ROOT / "templates").rglob("*") if p.is_file()
)


def _extracted() -> set[str]:
    """Every text marked for translation, as `pybabel extract -F babel.cfg -k N_ -k _l` finds it."""
    method_map = [
        ("webapp/**.py", "python"),
        ("templates/**.html", "jinja2"),
        ("templates/**.txt", "jinja2"),
    ]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "_l": None}
    found = set()
    for _, _, message, _, _ in extract_from_dir(str(ROOT), method_map, keywords=keywords):
        found.add(_first(message))
    return found


def _first(message: Any) -> str:
    """A message's id: its singular, for one with plural forms."""
    return str(message if isinstance(message, str) else message[0])


def _forms(translation: Any) -> list[str]:
    return [translation] if isinstance(translation, str) else list(translation)


def test_the_french_catalogue_holds_every_text_and_is_compiled() -> None:
    with (CATALOGUE / "messages.po").open("rb") as handle:
        catalogue = read_po(handle)
    translated = {_first(m.id): all(_forms(m.string)) for m in catalogue if m.id and not m.fuzzy}
    missing = sorted(t for t in _extracted() if not translated.get(t))
    assert missing == [], "translate these in messages.po, then pybabel compile"
    compiled = io.BytesIO()
    write_mo(compiled, catalogue)
    assert compiled.getvalue() == (CATALOGUE / "messages.mo").read_bytes(), (
        "run: pybabel compile -d webapp/translations"
    )


@pytest.mark.parametrize("template", TEMPLATES)
def test_no_text_of_a_template_escapes_translation(template: str) -> None:
    assert untranslated(Path(ROOT / "templates" / template)) == []


def test_the_checker_sees_text_left_untranslated(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text(
        '<h1>{{ _("Fine") }}</h1><p title="Left out">Left out too {{ x }}</p>'
        "{% trans %}Kept{% endtrans %}<code>wit1_img1</code>"
    )
    assert untranslated(page) == ["Left out", "Left out too x"]


def test_state_names_are_translated(app: Flask) -> None:
    assert Status.SUCCESS.label == "Succeeded"
    with force_locale("fr"):
        assert [s.label for s in (Status.SUCCESS, Status.ERROR, Status.IN_PROGRESS)] == [
            "Réussi",
            "Échoué",
            "En cours",
        ]


def test_the_browser_chooses_unless_the_user_did(client: FlaskClient, logged_in: User) -> None:
    french = {"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"}
    page = client.get("/treatments/", headers=french).get_data(as_text=True)
    assert '<html lang="fr">' in page
    assert "Traitements" in page
    assert "Aucun traitement." in page
    assert "Treatments" in client.get("/treatments/").get_data(as_text=True)

    saved = client.post("/account/language", data={"locale": "en"})
    assert saved.status_code == 302
    assert "Treatments" in client.get("/treatments/", headers=french).get_data(as_text=True)
    client.post("/account/language", data={"locale": "fr"})
    account = client.get("/account/password").get_data(as_text=True)
    assert "Votre langue a été enregistrée." in account
    assert "Changer votre mot de passe" in account
    refused = client.post("/account/language", data={"locale": "xx"}, follow_redirects=True)
    assert "Choisissez l’une des langues proposées." in refused.get_data(as_text=True)
    db.session.refresh(logged_in)
    assert logged_in.locale == "fr"
    client.post("/account/language", data={"locale": ""})
    db.session.refresh(logged_in)
    assert logged_in.locale == ""


def test_a_treatment_page_and_its_email_speak_the_users_language(
    client: FlaskClient,
    logged_in: User,
    processing_api: ProcessingAPI,
    mailbox: object,
) -> None:
    logged_in.locale = "fr"
    db.session.commit()
    treatment = launch(client, make_set(logged_in), notify_email=True)
    notify(client, treatment, "ERROR", error="boom")
    run_jobs()
    page = client.get(f"/treatments/{treatment.id}").get_data(as_text=True)
    assert "Extraction de régions sur « Diagrams »" in page
    assert "Échoué" in page
    assert "Relancer" in page
    (email,) = mailbox.messages  # type: ignore[attr-defined]
    assert email["Subject"] == "[Scriptorium] Extraction de régions sur « Diagrams » : Échoué"
    body = email.get_body(("plain",)).get_content()
    assert "0 documents sur 2" in body
    assert "Le voir :" in body


def test_api_errors_speak_the_callers_language(client: FlaskClient, app: Flask, user: User) -> None:
    french = {"Accept-Language": "fr"}
    refused = json_body(client.get("/api/v1/tasks/", headers=french))
    assert refused["message"] == "Envoyez un jeton d’API personnel : Authorization: Bearer <jeton>."
    headers = {**_bearer(_token(app, user)), **french}
    missing = json_body(client.get("/api/v1/tasks/nope", headers=headers))
    assert missing["message"] == "Aucune tâche de ce nom, ou pas l’une des vôtres."
    bad = json_body(client.post("/api/v1/tasks/", json={"name": "sum"}, headers=headers))
    assert bad["message"] == "Certains champs ne sont pas valides."
    assert bad["fields"] == {"numbers": ["Donnée manquante pour un champ requis."]}
    inputs = {"numbers": [1, "x"], "mode": "avg", "colour": 1}
    typed = client.post("/api/v1/tasks/", json={"name": "sum", "inputs": inputs}, headers=headers)
    assert json_body(typed)["fields"] == {
        "numbers": ["Élément 2 : Ce n’est pas un nombre valide."],
        "mode": ["Doit être l’un de : sum, max."],
        "colour": ["Champ inconnu."],
    }
    unnamed = json_body(client.post("/api/v1/tasks/", json={}, headers=headers))
    assert unnamed["fields"] == {"name": ["Donnée manquante pour un champ requis."]}
    english = json_body(client.post("/api/v1/tasks/", json={}, headers=_bearer(_token(app, user))))
    assert english["fields"] == {"name": ["Missing data for required field."]}
