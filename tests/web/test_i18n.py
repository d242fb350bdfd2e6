"""Internationalisation (§7, issue 11): locale from the learner's setting else Accept-Language; a Spanish
session sees no English string on the learner pages; plurals read right for 0, 1 and 2."""
from __future__ import annotations

import html as htmllib
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask import render_template_string

from tests.community_support import ago, give
from thrive.extensions import db
from thrive.models import Learner

CATALOGUE = Path(__file__).resolve().parents[2] / "thrive/translations/es/LC_MESSAGES/messages.po"
LEARNER_PAGES = ["/", "/community", "/journey", "/notifications", "/settings", "/points", "/panels/goals",
                 "/panels/circle"]


def visible_text(page: str) -> str:
    """The text a reader sees: no scripts, styles, tags or attribute values."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r"<!--.*?-->", " ", page, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", page)
    return " ".join(htmllib.unescape(text).split())


def english_msgids() -> list[str]:
    """Catalogue msgids (singular, no placeholders, at least two words) whose Spanish differs."""
    catalogue = read_po(CATALOGUE.open("rb"))
    out = []
    for m in catalogue:
        if not m.id or isinstance(m.id, tuple) or "%(" in m.id or m.context:
            continue
        if len(m.id.split()) >= 2 and m.string and m.string != m.id:
            out.append(m.id)
    return out


@pytest.fixture
def spanish(app, client, auth, make_learner):
    learner = make_learner("sofia", display_name="Sofía")
    with app.app_context():
        db.session.get(Learner, learner.id).locale = "es"
        db.session.commit()
        db.session.remove()
    peer = make_learner("peer", display_name="Pedro")
    give(app, peer.id, "quiz_completed", metadata={"topic": "SQL"}, at=ago(minutes=5))
    give(app, learner.id, "comment_posted", at=ago(minutes=3))
    auth.login("sofia")
    return learner


def test_catalogue_is_complete():
    catalogue = read_po(CATALOGUE.open("rb"))
    untranslated = [m.id for m in catalogue if m.id and not (all(m.string) if isinstance(m.string, tuple)
                                                                  else m.string)]
    assert not untranslated and len(catalogue) > 300


def test_spanish_session_sees_no_english_string_on_learner_pages(client, spanish):
    msgids = english_msgids()
    assert len(msgids) > 150
    for path in LEARNER_PAGES:
        response = client.get(path)
        assert response.status_code == 200, path
        page = response.get_data(as_text=True)
        assert '<html lang="es"' in page, path
        text = visible_text(page)
        leaked = [m for m in msgids if re.search(r"(?<![\w])" + re.escape(m) + r"(?![\w])", text)]
        assert not leaked, f"{path} shows English: {leaked[:5]}"


def test_locale_from_accept_language_else_english(client, auth, make_learner, app):
    make_learner("anna")
    assert '<html lang="en"' in client.get("/login").get_data(as_text=True)
    spanish = client.get("/login", headers={"Accept-Language": "es-ES,es;q=0.9,en;q=0.5"}).get_data(as_text=True)
    assert '<html lang="es"' in spanish and "Iniciar sesión" in spanish
    auth.login("anna")
    assert "Tu progreso" in client.get("/", headers={"Accept-Language": "es"}).get_data(as_text=True)
    with app.app_context():  # the learner's own setting wins over the browser
        db.session.scalar(db.select(Learner).where(Learner.username == "anna")).locale = "en"
        db.session.commit()
        db.session.remove()
    assert "Your progress" in client.get("/", headers={"Accept-Language": "es"}).get_data(as_text=True)


@pytest.mark.parametrize("locale", ["en", "es"])
def test_counts_0_1_2_read_right(app, locale):
    """Copy grammar (issue 11): every count goes through ngettext — no "+1 points", no "1 others"."""
    expected = {
        "en": {0: "+0 points", 1: "+1 point", 2: "+2 points"},
        "es": {0: "+0 puntos", 1: "+1 punto", 2: "+2 puntos"},
    }[locale]
    with app.test_request_context(headers={"Accept-Language": locale}):
        for n in (0, 1, 2):
            toast = render_template_string('{% include "_toast.html" %}', points=n)
            assert expected[n] in toast, toast
            cheers = render_template_string(
                '{% from "community/_cheer.html" import cheer_form with context %}{{ cheer_form(item, "/") }}',
                item={"kind": "entry", "id": 1, "cheered": False, "cheers": n, "can_cheer": True, "dom_id": "x"})
            if n:
                singular = {"en": "1 cheer<", "es": "1 aplauso<"}[locale]
                assert (singular in cheers) == (n == 1)
        from types import SimpleNamespace

        from thrive.web.phrases import group_sentence
        for people, en, es in ((1, "1 person completed a quiz", "1 persona completó un cuestionario"),
                               (2, "2 people completed a quiz", "2 personas: completó un cuestionario")):
            group = SimpleNamespace(kind="activity", actor=None, people=people, count=people, in_circle=False,
                                    activity_type="quiz_completed", tier=None, circle_name=None)
            assert group_sentence(group) == (en if locale == "en" else es)
