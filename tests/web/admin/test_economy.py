"""Admin economy pages (§4.2, §5, §6.2, §11): forms and their messages, CSRF, dry run, what-if, goal templates,
configuration import/export — through the real views."""
from __future__ import annotations

import io
import json
import re

import pytest
from sqlalchemy import func, select

from tests.community_support import give
from tests.web.admin.conftest import admin_token
from thrive.extensions import db
from thrive.models import AuditEntry, GoalTemplate, PointRule, Tier

PAGES = ["/admin/rules", "/admin/rules/new", "/admin/rules/quiz_completed", "/admin/ladder", "/admin/goal-templates",
         "/admin/goal-templates/new", "/admin/moderation", "/admin/config"]


def audits(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def rule_form(app, source="quiz_completed", **changes) -> dict:
    with app.app_context():
        r = db.session.get(PointRule, source)
        data = {"label": r.label, "category": r.category or "", "base_points": str(r.base_points),
                "difficulty_points": ", ".join(f"{k}={v}" for k, v in (r.difficulty_points or {}).items()),
                "perfect_bonus_percent": str(r.perfect_bonus_percent), "max_per_day": str(r.max_per_day or ""),
                "max_per_week": str(r.max_per_week or ""), "max_ever": str(r.max_ever or ""),
                "min_points": "" if r.min_points is None else str(r.min_points),
                "max_points": "" if r.max_points is None else str(r.max_points), "notes": r.notes or ""}
        for flag in ("enabled", "allow_custom_points", "allow_negative", "requires_description"):
            if getattr(r, flag):
                data[flag] = "y"
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


@pytest.mark.parametrize("path", PAGES)
def test_pages_render_for_admins(as_admin, path):
    response = as_admin.get(path)
    assert response.status_code == 200
    assert "<h1" in response.get_data(as_text=True)


def test_moderators_reach_moderation_but_not_rules(client, auth, moderator_user):
    auth.login("mod")
    assert client.get("/admin/moderation").status_code == 200
    for path in ("/admin/rules", "/admin/ladder", "/admin/goal-templates", "/admin/config"):
        assert client.get(path).status_code == 403, path
    html = client.get("/admin/moderation").get_data(as_text=True)
    assert ">Moderation</a>" in html and ">Point rules</a>" not in html


CSRF_POSTS = [
    ("/admin/rules/new", {"label": "x", "base_points": "1", "activity_type": "x_y"}),
    ("/admin/rules/quiz_completed", {"label": "x", "base_points": "1"}),
    ("/admin/rules/quiz_completed/dry-run", {"label": "x", "base_points": "1"}),
    ("/admin/rules/quiz_completed/enabled", {"enabled": "0"}),
    ("/admin/ladder", {"action": "save"}),
    ("/admin/goal-templates/new", {"title": "x"}),
    ("/admin/goal-templates/1", {"title": "x"}),
    ("/admin/goal-templates/1/enabled", {"enabled": "0"}),
    ("/admin/moderation/hide", {"kind": "entry", "id": "1"}),
    ("/admin/moderation/unhide", {"kind": "entry", "id": "1"}),
    ("/admin/moderation/dismiss", {"kind": "entry", "id": "1"}),
    ("/admin/moderation/learners/1/hide-all", {}),
    ("/admin/config/import", {"document": "{}", "action": "apply"}),
]


@pytest.mark.parametrize(("path", "data"), CSRF_POSTS)
def test_every_form_needs_the_csrf_token(app, as_admin, path, data):
    response = as_admin.post(path, data=data)
    assert response.status_code == 400
    assert audits(app) == []
    with app.app_context():
        assert db.session.get(PointRule, "quiz_completed").version == 1


@pytest.mark.parametrize(("changes", "text"), [
    ({"base_points": ""}, "Enter a whole number."),
    ({"label": ""}, "Give the rule a label."),
    ({"max_per_day": "0"}, "This number is out of range."),
    ({"min_points": "9", "max_points": "3", "allow_custom_points": "y"}, "The maximum must be at least the minimum."),
    ({"difficulty_points": "beginner=ten"}, "Write name=points pairs"),
    ({"base_points": "-4"}, "Must be 0 or more"),
])
def test_rule_form_messages(app, as_admin, changes, text):
    token = admin_token(as_admin, "/admin/rules/quiz_completed")
    response = as_admin.post("/admin/rules/quiz_completed", data=rule_form(app, csrf_token=token, **changes))
    assert response.status_code == 400
    assert text in response.get_data(as_text=True)
    assert audits(app) == []


def test_new_rule_form_messages_and_create(app, as_admin):
    token = admin_token(as_admin, "/admin/rules/new")
    data = rule_form(app, csrf_token=token, activity_type="Bad Key", label="Poster")
    response = as_admin.post("/admin/rules/new", data=data)
    assert response.status_code == 400 and "Use lower-case letters" in response.get_data(as_text=True)
    response = as_admin.post("/admin/rules/new", data={**data, "activity_type": "quiz_completed"})
    assert "This key is already used." in response.get_data(as_text=True)
    response = as_admin.post("/admin/rules/new", data={**data, "activity_type": "poster_presented"})
    assert response.status_code == 303
    assert audits(app) == ["rule.create"]


def test_edit_rule_saves_a_version(app, as_admin):
    token = admin_token(as_admin, "/admin/rules/quiz_completed")
    response = as_admin.post("/admin/rules/quiz_completed", data=rule_form(app, csrf_token=token, base_points="40"),
                             follow_redirects=True)
    assert "Saved quiz_completed as version 2" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(PointRule, "quiz_completed").base_points == 40
    assert audits(app) == ["rule.update"]
    toggle = as_admin.post("/admin/rules/quiz_completed/enabled", data={"csrf_token": token, "enabled": "0"})
    assert toggle.status_code == 303
    with app.app_context():
        assert db.session.get(PointRule, "quiz_completed").enabled is False
    assert audits(app) == ["rule.update", "rule.update"]


def test_dry_run_fragment_and_page(app, as_admin, make_learner):
    learner = make_learner()
    for _ in range(3):
        give(app, learner.id, "quiz_completed")
    token = admin_token(as_admin, "/admin/rules/quiz_completed")
    data = rule_form(app, csrf_token=token, base_points="7", max_per_day="2")
    fragment = as_admin.post("/admin/rules/quiz_completed/dry-run", data=data, headers={"HX-Request": "true"})
    html = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in html and 'id="dry-run"' in html
    figures = dict(re.findall(r'data-figure="([a-z-]+)">(\d+)<', html))
    assert figures == {"actual-events": "3", "actual-points": "60", "actual-capped": "0",
                       "proposed-events": "3", "proposed-points": "14", "proposed-capped": "1"}
    page = as_admin.post("/admin/rules/quiz_completed/dry-run", data=data)
    assert page.status_code == 200 and "<html" in page.get_data(as_text=True)
    assert 'value="7"' in page.get_data(as_text=True)  # the edited values are kept
    with app.app_context():
        assert db.session.get(PointRule, "quiz_completed").base_points == 20  # nothing saved
    bad = as_admin.post("/admin/rules/quiz_completed/dry-run", data={**data, "base_points": ""},
                        headers={"HX-Request": "true"})
    assert bad.status_code == 400 and "Correct the form" in bad.get_data(as_text=True)


def ladder_form(app, token, **overrides) -> dict:
    with app.app_context():
        tiers = list(db.session.scalars(select(Tier).order_by(Tier.threshold)))
        data = {"csrf_token": token, "levels": "0, 50, 100, 200, 300, 500", "announce": "silent",
                "curve": "linear", "curve_count": "10", "curve_base": "100", "curve_coefficient": "0"}
        for i, t in enumerate(tiers):
            for name in ("key", "name", "threshold", "emoji", "colour", "tagline"):
                data[f"tiers-{i}-{name}"] = str(getattr(t, name))
    data.update(overrides)
    return data


def test_ladder_preview_generate_and_save(app, as_admin, make_learner):
    learner = make_learner()
    give(app, learner.id, "special_event", points=150)
    token = admin_token(as_admin, "/admin/ladder")
    lower = ladder_form(app, token, **{"tiers-1-threshold": "100"})
    preview = as_admin.post("/admin/ladder", data={**lower, "action": "preview"}, headers={"HX-Request": "true"})
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "<html" not in html
    assert re.search(r'data-figure="promoted">1<', html)
    generated = as_admin.post("/admin/ladder", data={**lower, "action": "generate"})
    assert "0, 100, 200, 300, 400, 500, 600, 700, 800, 900" in generated.get_data(as_text=True)
    bad = as_admin.post("/admin/ladder", data={**lower, "tiers-0-threshold": "5", "action": "save"})
    assert bad.status_code == 400 and "The first threshold must be 0." in bad.get_data(as_text=True)
    bad = as_admin.post("/admin/ladder", data={**lower, "tiers-2-colour": "red", "action": "save"})
    assert bad.status_code == 400 and "Use a colour like" in bad.get_data(as_text=True)
    bad = as_admin.post("/admin/ladder", data={**lower, "levels": "0, 10, 5", "action": "save"})
    assert bad.status_code == 400 and "Thresholds must increase strictly" in bad.get_data(as_text=True)
    assert audits(app) == []
    saved = as_admin.post("/admin/ladder", data={**lower, "action": "save"}, follow_redirects=True)
    assert "1 learner promoted" in saved.get_data(as_text=True)
    assert audits(app) == ["ladder.update"]


def test_goal_template_forms(app, as_admin):
    token = admin_token(as_admin, "/admin/goal-templates/new")
    data = {"csrf_token": token, "key": "publish_two", "title": "Publish 2 projects", "kind": "activity_count",
            "activity_types": ["project_published"], "target": "2", "reward": "35", "position": "5", "enabled": "y"}
    for changes, text in (({"reward": "99999"}, "This number is out of range."),
                          ({"key": "streak_7"}, "This key is already used."),
                          ({"activity_types": []}, "This field is required."),
                          ({"target": ""}, "Enter a whole number.")):
        response = as_admin.post("/admin/goal-templates/new", data={**data, **changes})
        assert response.status_code == 400 and text in response.get_data(as_text=True), changes
    assert as_admin.post("/admin/goal-templates/new", data=data).status_code == 303
    with app.app_context():
        tpl = db.session.scalar(select(GoalTemplate).where(GoalTemplate.key == "publish_two"))
        tpl_id = tpl.id
    assert as_admin.get(f"/admin/goal-templates/{tpl_id}").status_code == 200
    assert as_admin.post(f"/admin/goal-templates/{tpl_id}", data={**data, "reward": "45"}).status_code == 303
    assert as_admin.post(f"/admin/goal-templates/{tpl_id}/enabled",
                         data={"csrf_token": token, "enabled": "0"}).status_code == 303
    with app.app_context():
        tpl = db.session.get(GoalTemplate, tpl_id)
        assert (tpl.reward, tpl.enabled) == (45, False)
    assert audits(app) == ["goal_template.create", "goal_template.update", "goal_template.update"]


def test_config_export_dry_run_and_apply(app, as_admin):
    exported = as_admin.get("/admin/config/export.json")
    assert exported.status_code == 200 and "attachment" in exported.headers["Content-Disposition"]
    doc = json.loads(exported.get_data(as_text=True))
    next(r for r in doc["rules"] if r["activity_type"] == "battle_won")["base_points"] = 77
    token = admin_token(as_admin, "/admin/config")
    upload = {"csrf_token": token, "action": "dry_run",
              "file": (io.BytesIO(json.dumps(doc).encode()), "config.json")}
    dry = as_admin.post("/admin/config/import", data=upload, content_type="multipart/form-data")
    html = dry.get_data(as_text=True)
    assert dry.status_code == 200 and "battle_won" in html and "Apply this change" in html
    with app.app_context():
        assert db.session.get(PointRule, "battle_won").base_points == 20
    assert audits(app) == []
    bad = as_admin.post("/admin/config/import", data={"csrf_token": token, "document": "{nope", "action": "dry_run"})
    assert bad.status_code == 400 and "not valid JSON" in bad.get_data(as_text=True)
    doc_bad = {**doc, "levels": [3, 2]}
    bad = as_admin.post("/admin/config/import", data={"csrf_token": token, "document": json.dumps(doc_bad)})
    assert bad.status_code == 400 and "levels: The first threshold must be 0." in bad.get_data(as_text=True)
    applied = as_admin.post("/admin/config/import", data={"csrf_token": token, "document": json.dumps(doc),
                                                         "action": "apply"})
    assert applied.status_code == 303
    with app.app_context():
        assert db.session.get(PointRule, "battle_won").base_points == 77
        assert db.session.scalar(select(func.count(AuditEntry.id))) == 1
    assert audits(app) == ["config.import"]
