"""Weekly goal templates for staff (§6.2, §11): validation, add, edit, disable — applied from the next goals."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.services.admin.economy_support import audit_actions, staff
from thrive.extensions import db
from thrive.models import GoalTemplate
from thrive.services.admin import goal_templates as templates
from thrive.services.errors import NotFound
from thrive.services.weekly.goals import ensure_goals

NOW = datetime(2026, 3, 18, 10, 0, tzinfo=UTC)


def data(**changes) -> dict:
    base = {"key": "share_projects", "title": "Publish 2 projects", "description": "Show your work.",
            "kind": "activity_count", "activity_types": ["project_published"], "target": 2, "reward": 35,
            "enabled": True, "position": 9}
    base.update(changes)
    return base


@pytest.mark.parametrize(("changes", "field", "code"), [
    ({"key": ""}, "key", "required"),
    ({"key": "Bad key"}, "key", "invalid_key"),
    ({"key": "streak_7"}, "key", "taken"),
    ({"title": ""}, "title", "required"),
    ({"kind": "vibes"}, "kind", "unknown_kind"),
    ({"activity_types": ["nope"]}, "activity_types", "unknown_activity_type"),
    ({"activity_types": []}, "activity_types", "required"),
    ({"target": 0}, "target", "out_of_range"),
    ({"target": None}, "target", "required"),
    ({"reward": 5000}, "reward", "out_of_range"),
    ({"reward": "lots"}, "reward", "not_integer"),
])
def test_validation_errors(app_ctx, changes, field, code):
    with pytest.raises(templates.TemplateErrors) as caught:
        templates.validate_template(data(**changes))
    assert caught.value.errors[field] == code


def test_add_edit_disable_apply_from_the_next_goals(app_ctx, make_learner):
    admin, learner, later = staff(make_learner), make_learner(), make_learner()
    this_week = {g.title for g in ensure_goals(learner.id, "2026-W12", now=NOW)}
    db.session.commit()
    created = templates.save_template(admin, data())
    streak = db.session.query(GoalTemplate).filter_by(key="streak_7").one()
    edit = templates.template_snapshot(streak) | {"reward": 80, "title": "Keep a 7-day streak"}
    templates.save_template(admin, edit, template_id=streak.id)
    templates.set_enabled(admin, db.session.query(GoalTemplate).filter_by(key="help_community").one().id, False)
    assert audit_actions() == ["goal_template.create", "goal_template.update", "goal_template.update"]

    # goals already created keep their terms
    db.session.commit()
    kept = {g.title: g.reward for g in ensure_goals(learner.id, "2026-W12", now=NOW)}
    assert "Maintain a 7-day streak" in kept and kept["Maintain a 7-day streak"] == 50
    assert set(kept) >= this_week
    # the next goals created follow the templates
    db.session.commit()
    fresh = {g.title: g.reward for g in ensure_goals(later.id, "2026-W13", now=NOW)}
    assert fresh["Keep a 7-day streak"] == 80
    assert fresh["Publish 2 projects"] == 35
    assert "Help 5 community members" not in fresh
    assert created.created


def test_unchanged_save_and_unknown_template(app_ctx, make_learner):
    admin = staff(make_learner)
    tpl = db.session.query(GoalTemplate).filter_by(key="streak_7").one()
    assert templates.save_template(admin, templates.template_snapshot(tpl), template_id=tpl.id).changed is False
    assert audit_actions() == []
    with pytest.raises(NotFound):
        templates.set_enabled(admin, 9999, False)
