"""Internationalisation (§7, issue 11): locale from the learner's setting else Accept-Language; a Spanish
session sees no English string on the learner pages (quests and achievements included) nor on the admin pages;
plurals read right for 0, 1 and 2; grouped verbs agree with the number of people; notifications are worded in
the reader's language whatever their stored (English) title."""
from __future__ import annotations

import html as htmllib
import re
from datetime import UTC
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask import render_template_string

from tests.community_support import ago, give
from thrive.extensions import db
from thrive.models import Learner

CATALOGUE = Path(__file__).resolve().parents[2] / "thrive/translations/es/LC_MESSAGES/messages.po"
LEARNER_PAGES = ["/", "/community", "/journey", "/notifications", "/settings", "/points", "/panels/goals",
                 "/panels/circle", "/quests", "/achievements"]
#: Admin pages (a Spanish-speaking admin); ``{learner}``, ``{quest}``… are filled with ids made by the test.
ADMIN_PAGES = ["/admin/", "/admin/learners", "/admin/learners/{learner}", "/admin/learners/bulk-award",
               "/admin/circles", "/admin/jobs", "/admin/api-keys", "/admin/audit", "/admin/rules", "/admin/rules/new",
               "/admin/rules/quiz_completed", "/admin/ladder", "/admin/goal-templates", "/admin/goal-templates/new",
               "/admin/moderation", "/admin/moderation/learners/{learner}", "/admin/config", "/admin/quests",
               "/admin/quests/new", "/admin/quests/{quest}", "/admin/achievements", "/admin/achievements/new",
               "/admin/achievements/{achievement}"]


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


def leaks(text: str, msgids: list[str], data: list[str] = ()) -> list[str]:
    """Catalogue English (whole words) found in ``text`` once admin-entered ``data`` is taken out."""
    for value in sorted(data, key=len, reverse=True):
        text = text.replace(value, " ")
    return [m for m in msgids if re.search(r"(?<![\w])" + re.escape(m) + r"(?![\w])", text)]


def entered_data(app) -> list[str]:
    """Texts that are data, shown as entered in every language: quests, achievements (the seeded defaults too),
    point rule labels and the tier ladder's names and taglines."""
    from thrive.models import Achievement, Quest
    from thrive.services.points.registry import load_registry

    with app.app_context():
        out = [v for q in db.session.scalars(db.select(Quest)) for v in (q.title, q.description, q.topic) if v]
        out += [v for a in db.session.scalars(db.select(Achievement))
                for v in (a.name, a.description, a.criteria_text, a.group) if v]
        registry = load_registry()
        out += [r.label for r in registry.rules.values()] + [v for t in registry.tiers for v in (t.name, t.tagline)]
        db.session.remove()
    return [" ".join(v.split()) for v in out]


def seed_quests_and_badges(app, learner_id: int) -> dict:
    """The seeded side quests and achievements; the learner starts a quest and earns a badge."""
    from thrive.models import Achievement, Quest
    from thrive.services.quests.progress import start_quest
    from thrive.services.quests.seeding import seed_quests_and_achievements

    with app.app_context():
        seed_quests_and_achievements()
        quest = db.session.scalars(db.select(Quest).order_by(Quest.id)).first()
        from thrive.services.quests import catalog as quests

        if quest.status != "published":
            quests.set_status(quest.id, "published", now=ago(days=30))
        start_quest(learner_id, quest.id)
        badge = db.session.scalars(db.select(Achievement).order_by(Achievement.id)).first()
        ids = {"quest": quest.id, "achievement": badge.id}
        db.session.remove()
    give(app, learner_id, "quiz_completed", metadata={"topic": "SQL"}, at=ago(minutes=2))
    return ids


@pytest.fixture
def spanish(app, client, auth, make_learner):
    learner = make_learner("sofia", display_name="Sofía")
    with app.app_context():
        db.session.get(Learner, learner.id).locale = "es"
        db.session.commit()
        db.session.remove()
    seed_quests_and_badges(app, learner.id)
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


def test_spanish_session_sees_no_english_string_on_learner_pages(app, client, spanish):
    msgids = english_msgids()
    data = entered_data(app)
    assert len(msgids) > 150
    for path in LEARNER_PAGES:
        response = client.get(path)
        assert response.status_code == 200, path
        page = response.get_data(as_text=True)
        assert '<html lang="es"' in page, path
        leaked = leaks(visible_text(page), msgids, data)
        assert not leaked, f"{path} shows English: {leaked[:5]}"


def test_spanish_admin_sees_no_english_string_on_admin_pages(app, client, auth, make_learner):
    """Issue 11: the admin area is translated too (navigation, headings, tables, forms, statuses)."""
    admin = make_learner("jefa", display_name="Jefa", staff_role="admin")
    learner = make_learner("lucia", display_name="Lucía")
    with app.app_context():
        db.session.get(Learner, admin.id).locale = "es"
        db.session.commit()
        db.session.remove()
    ids = seed_quests_and_badges(app, learner.id)
    auth.login("jefa")
    msgids, data = english_msgids(), entered_data(app)
    for path in ADMIN_PAGES:
        url = path.format(learner=learner.id, **ids)
        response = client.get(url)
        assert response.status_code == 200, url
        page = response.get_data(as_text=True)
        assert '<html lang="es"' in page, url
        leaked = leaks(visible_text(page), msgids, data)
        assert not leaked, f"{url} shows English: {leaked[:5]}"
    labels = visible_text(client.get("/admin/rules").get_data(as_text=True))
    assert "Reglas de puntos" in labels and "Tipo de actividad" in labels and "activada" in labels


def test_spanish_admin_form_errors(app, client, auth, make_learner):
    """WTForms labels and validation messages (ours and WTForms' own) read in Spanish."""
    admin = make_learner("jefa", display_name="Jefa", staff_role="admin")
    with app.app_context():
        db.session.get(Learner, admin.id).locale = "es"
        db.session.commit()
        db.session.remove()
    auth.login("jefa")
    from tests.conftest import csrf_token_from

    page = client.get("/admin/quests/new").get_data(as_text=True)
    response = client.post("/admin/quests/new", data={"csrf_token": csrf_token_from(page), "key": "x y",
                                                      "title": "", "target": "abc"})
    text = visible_text(response.get_data(as_text=True))
    assert response.status_code == 400
    assert "Hace falta un título." in text and "Solo minúsculas" in text and "Cuenta esta actividad" in text
    assert "Not a valid" not in text and "This field is required" not in text  # WTForms' own messages too


def test_notifications_are_worded_in_the_readers_language(app, client, auth, make_learner):
    """Every kind is worded at display time; the stored English title shows only for an admin's own message."""
    from thrive.models import Notification

    learner = make_learner("sofia", display_name="Sofía")
    rows = [
        ("tier_up", "You reached Spark! ✨", {"tier": "spark"}), ("tier_up", "You reached Spark! ✨", None),
        ("level_up", "Level 3!", {"levels": [3]}), ("level_up", "Level 4!", None),
        ("streak_milestone", "7-day streak! 🔥", {"days": 7}), ("streak_milestone", "7-day streak! 🔥", None),
        ("streak_at_risk", "Your 5-day streak is waiting for you 🔥", None),
        ("grace_day_used", "A grace day kept your 6-day streak alive", None),
        ("weekly_goal_completed", "Weekly goal complete: Three quizzes", None),
        ("circle_goal_completed", "Beacon Circle B reached its circle goal together! 🎉", None),
        ("circle_assigned", "Meet your Thrive Circle: Beacon Circle B", None),
        ("new_follower", "A learner started following you", None),
        ("side_quest_available", "New side quest: Quiz sprint", None),
        ("side_quest_completed", "Side quest complete: Quiz sprint", {"quest": "Quiz sprint", "points": 50}),
        ("achievement_earned", "Achievement unlocked: First Quiz 🧠", None),
        ("weekly_recap", "Last week you earned 1,234 points and completed 2 goals",
         {"week": "2026-W48", "points": 1234, "goals": 2}),
        ("weekly_recap", "Last week you earned 5 points", None),
        ("points_adjusted", "Thanks for running the study group!", {"points": 25}),
    ]
    with app.app_context():
        db.session.get(Learner, learner.id).locale = "es"
        for kind, title, data in rows:
            db.session.add(Notification(learner_id=learner.id, type=kind, title=title, data=data))
        db.session.commit()
        db.session.remove()
    auth.login("sofia")
    text = visible_text(client.get("/notifications").get_data(as_text=True))
    for _kind, title, _data in rows[:-1]:
        assert title.split(":")[0].split("!")[0] not in text, title
    for spanish in ("¡Has llegado a un nuevo rango!", "¡Has subido de nivel!", "¡Racha de 7 días!",
                    "Tu racha te está esperando", "Misión secundaria completada: Quiz sprint", "+50 puntos",
                    "Hay una nueva misión secundaria", "¡Logro desbloqueado!", "La semana pasada ganaste 1.234 puntos",
                    "y completaste 2 metas", "Ya está aquí tu resumen semanal", "Puntos ajustados: +25"):
        assert spanish in text, spanish
    assert "Thanks for running the study group!" in text  # free text an admin wrote: shown as written


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

        from thrive.web.quests.views import activity_noun
        nouns = {"en": ("quizzes", "quiz", "quizzes"), "es": ("cuestionarios", "cuestionario", "cuestionarios")}
        assert tuple(activity_noun("quiz_completed", n) for n in (0, 1, 2)) == nouns[locale]
        times = render_template_string('{{ ngettext("Completed %(num)s time before.", "Completed %(num)s times '
                                       'before.", n) }}', n=1)
        assert times == {"en": "Completed 1 time before.", "es": "Completada 1 vez antes."}[locale]


@pytest.mark.parametrize("locale", ["en", "es"])
def test_grouped_verbs_agree_with_the_number_of_people(app, locale):
    """Issue 11: "1 persona completó" but "2 personas completaron" — ngettext over people, for every phrase."""
    from types import SimpleNamespace

    from thrive.services.points.registry import load_registry
    from thrive.web.phrases import ACTIVITY_PHRASES, PEOPLE_PHRASES, group_sentence

    assert set(PEOPLE_PHRASES) == set(ACTIVITY_PHRASES)  # every grouped activity has a people-agreeing form
    expected = {
        "en": {1: "1 person completed a quiz", 2: "2 people completed a quiz", 3: "3 people completed a quiz"},
        "es": {1: "1 persona completó un cuestionario", 2: "2 personas completaron un cuestionario",
               3: "3 personas completaron un cuestionario"},
    }[locale]
    circle = {"en": "people in your circle helped their circle reach its goal",
              "es": "personas de tu círculo ayudaron a su círculo a alcanzar su meta"}[locale]
    with app.test_request_context(headers={"Accept-Language": locale}):
        tier = load_registry().tiers[1]
        for people in (1, 2, 3):
            group = SimpleNamespace(kind="activity", actor=None, people=people, count=people + 2, in_circle=False,
                                    activity_type="quiz_completed", tier=None, circle_name=None)
            assert group_sentence(group) == expected[people]
            group.in_circle, group.activity_type = True, "circle_goal_completed"
            if people > 1:
                assert group_sentence(group) == f"{people} {circle}"
            group.in_circle, group.kind, group.tier = False, "tier_up", tier
            reached = {"en": f"reached {tier.name}!",
                       "es": f"¡llegó a {tier.name}!" if people == 1 else f"¡llegaron a {tier.name}!"}[locale]
            assert group_sentence(group).endswith(reached)
        if locale == "es":
            for activity_type, phrase in PEOPLE_PHRASES.items():
                one, many = phrase(1), phrase(2)
                assert one != many, activity_type  # a Spanish verb always changes from 1 to 2 people


def test_celebrations_are_worded_in_the_readers_language(app, client, auth, make_learner):
    """The celebration modal says in Spanish what the inbox says (stored titles are English)."""
    from thrive.services.points.award import award

    learner = make_learner("sofia", display_name="Sofía")
    with app.app_context():
        db.session.get(Learner, learner.id).locale = "es"
        db.session.commit()
        award(learner.id, "special_event", event_key="es:lvl", points=100)  # levels 2..3, no tier
        db.session.remove()
    auth.login("sofia")
    modal = client.get("/celebrations/next", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<dialog" in modal and "¡Nivel 3!" in modal and "2 niveles más" in modal
    assert "Level 3" not in modal and "Up 2 levels" not in modal


@pytest.mark.parametrize("locale", ["en", "es"])
def test_own_activity_reads_in_the_second_person(app, locale):
    """"You completed a quiz" / "Tú completaste un cuestionario" — never "Tú completó" (issue 11)."""
    from thrive.web.phrases import ACTIVITY_PHRASES, YOU_PHRASES, activity_predicate

    assert set(YOU_PHRASES) == set(ACTIVITY_PHRASES)
    with app.test_request_context(headers={"Accept-Language": locale}):
        mine = activity_predicate("quiz_completed", "SQL", you=True)
        theirs = activity_predicate("quiz_completed", "SQL")
        if locale == "en":
            assert mine == theirs == "completed a quiz on SQL"
        else:
            assert mine == "completaste un cuestionario sobre SQL"
            assert theirs == "completó un cuestionario sobre SQL"
            assert all(YOU_PHRASES[t]() != ACTIVITY_PHRASES[t][0]() for t in YOU_PHRASES)


@pytest.mark.parametrize("locale", ["en", "es"])
def test_localtime_goes_through_babel_in_the_readers_zone(app, make_learner, locale):
    """``localtime`` (issue 11): Babel's month names in the reader's language, in the learner's own time zone."""
    from datetime import datetime

    from flask_login import login_user

    learner = make_learner("lola", display_name="Lola")
    instant = datetime(2026, 12, 2, 3, 5, tzinfo=UTC)  # 1 Dec, 21:05 in Mexico City (UTC−6)
    with app.test_request_context():
        row = db.session.get(Learner, learner.id)
        row.locale, row.timezone = locale, "America/Mexico_City"
        login_user(row)
        shown = render_template_string("{{ t | localtime }}|{{ t | localtime('yyyy-MM-dd') }}|{{ none | localtime }}",
                                       t=instant, none=None)
        db.session.rollback()
    expected = {"en": "Dec 1, 2026, 9:05 PM|2026-12-01|", "es": "1 dic 2026, 21:05|2026-12-01|"}[locale]
    assert " ".join(shown.replace("\u202f", " ").split(" ")) == expected


def test_notification_time_title_reads_spanish_month_names(app, client, auth, make_learner):
    """The notifications page's exact time (each <time>'s ``title``) has Spanish month names."""
    from thrive.models import Notification

    learner = make_learner("sofia", display_name="Sofía")
    with app.app_context():
        db.session.get(Learner, learner.id).locale = "es"
        db.session.add(Notification(learner_id=learner.id, type="level_up", title="Level 3!", data={"levels": [3]}))
        db.session.commit()
        db.session.remove()
    auth.login("sofia")
    titles = re.findall(r'<time datetime="[^"]+" title="([^"]+)"', client.get("/notifications").get_data(as_text=True))
    months_es = ("ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sept", "oct", "nov", "dic")
    assert titles and all(any(f" {m} " in t for m in months_es) for t in titles), titles


@pytest.mark.parametrize("locale", ["en", "es"])
def test_feedback_reads_gave_feedback_to_a_peer(app, locale):
    """Copy (issue 11): "gave feedback to a peer", never the awkward "gave a peer feedback"."""
    from thrive.web.phrases import ACTIVITY_PHRASES, PEOPLE_PHRASES, YOU_PHRASES

    with app.test_request_context(headers={"Accept-Language": locale}):
        said = [ACTIVITY_PHRASES["feedback_given"][0](), PEOPLE_PHRASES["feedback_given"](1),
                PEOPLE_PHRASES["feedback_given"](2), YOU_PHRASES["feedback_given"]()]
    assert not any("a peer feedback" in s for s in said)
    if locale == "en":
        assert said == ["gave feedback to a peer"] * 4
