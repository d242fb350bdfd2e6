"""Configuration as data (§11, §12): export → import round trip, dry-run diff writes nothing, CLI."""
from __future__ import annotations

import copy
import json

import pytest
from sqlalchemy import func, select

from tests.community_support import give
from tests.services.admin.economy_support import audit_actions, staff
from thrive.extensions import db
from thrive.models import GoalTemplate, Level, PointRule, PointRuleVersion, Tier
from thrive.services.admin import config_data


def snapshot() -> str:
    """Everything an import could write, as text (compared before/after a dry run)."""
    db.session.commit()
    doc = config_data.export_config()
    doc.pop("exported_at")
    versions = db.session.scalar(select(func.count(PointRuleVersion.id)))
    return json.dumps([doc, versions, audit_actions()], sort_keys=True, default=str)


def test_export_has_every_section(app_ctx):
    doc = config_data.export_config()
    assert doc["thrive_config"] == 1
    assert {r["activity_type"] for r in doc["rules"]} >= {"quiz_completed", "admin_adjustment"}
    assert [t["key"] for t in doc["tiers"]] == ["ember", "spark", "blaze", "beacon", "phoenix"]
    assert doc["levels"][:3] == [0, 50, 100]
    assert {t["key"] for t in doc["goal_templates"]} == {"complete_activities", "streak_7", "help_community",
                                                         "new_quiz_topics"}
    json.dumps(doc)  # JSON-serialisable


def test_round_trip_has_no_differences(app_ctx, make_learner):
    admin = staff(make_learner)
    doc = json.loads(json.dumps(config_data.export_config()))
    result = config_data.import_config(doc, actor=admin, dry_run=False)
    assert result.changes == [] and audit_actions() == []


def _edited(doc):
    doc = copy.deepcopy(doc)
    quiz = next(r for r in doc["rules"] if r["activity_type"] == "quiz_completed")
    quiz["base_points"] = 33
    doc["rules"].append({**quiz, "activity_type": "poster_presented", "label": "Presented a poster"})
    doc["tiers"][1]["threshold"] = 200
    doc["tiers"][1]["tagline"] = "Catching fire"
    doc["levels"] = doc["levels"][:10]
    doc["goal_templates"][0]["reward"] = 45
    return doc


def test_dry_run_shows_the_differences_and_writes_nothing(app, app_ctx, make_learner):
    admin, learner = staff(make_learner), make_learner()
    give(app, learner.id, "special_event", points=220)
    doc = _edited(config_data.export_config())
    before = snapshot()
    result = config_data.import_config(doc, actor=admin, dry_run=True)
    assert snapshot() == before
    found = {(c.section, c.key, c.action) for c in result.changes}
    assert ("rules", "quiz_completed", "change") in found
    assert ("rules", "poster_presented", "add") in found
    assert ("tiers", "spark", "change") in found
    assert ("levels", "11", "remove") in found
    assert ("goal_templates", "complete_activities", "change") in found
    quiz = next(c for c in result.changes if c.key == "quiz_completed")
    assert quiz.fields == {"base_points": [20, 33]}

    applied = config_data.import_config(doc, actor=admin, dry_run=False)
    assert len(applied.changes) == len(result.changes)
    assert applied.summary["promoted"] == 1  # 220 points reach the new Spark (200)
    db.session.commit()
    assert db.session.get(PointRule, "quiz_completed").base_points == 33
    assert db.session.get(PointRule, "quiz_completed").version == 2
    assert db.session.get(PointRule, "poster_presented") is not None
    assert db.session.scalar(select(Tier.threshold).where(Tier.key == "spark")) == 200
    assert db.session.scalar(select(func.count(Level.level))) == 10
    assert db.session.scalar(select(GoalTemplate.reward).where(GoalTemplate.key == "complete_activities")) == 45
    assert audit_actions() == ["config.import"]
    # importing the same document again changes nothing
    assert config_data.import_config(doc, actor=admin, dry_run=False).changes == []


@pytest.mark.parametrize(("mutate", "path"), [
    (lambda d: d.update(thrive_config=2), "thrive_config"),
    (lambda d: d.update(widgets=[]), "widgets"),
    (lambda d: d["rules"][0].update(base_points=-3), "rules.0.base_points"),
    (lambda d: d["tiers"][0].update(threshold=5), "tiers"),
    (lambda d: d["goal_templates"][0].update(kind="nope"), "goal_templates.0.kind"),
    (lambda d: d.update(rules="all of them"), "rules"),
])
def test_invalid_documents_are_refused_and_write_nothing(app_ctx, make_learner, mutate, path):
    admin = staff(make_learner)
    doc = config_data.export_config()
    doc["rules"].sort(key=lambda r: r["activity_type"] != "quiz_completed")
    mutate(doc)
    before = snapshot()
    with pytest.raises(config_data.ConfigErrors) as caught:
        config_data.import_config(doc, actor=admin, dry_run=False)
    assert path in caught.value.errors
    assert snapshot() == before


def test_a_section_can_be_registered(app_ctx, make_learner):
    seen = {}
    section = config_data.Section("extra", ("extras",), lambda: {"extras": [1]},
                                  lambda part: (part["extras"], [config_data.Change("extras", "1", "add")]),
                                  lambda ctx, clean: seen.update(applied=clean))
    config_data.register_section(section)
    try:
        doc = config_data.export_config()
        assert doc["extras"] == [1]
        config_data.import_config(doc, actor=staff(make_learner), dry_run=False)
        assert seen == {"applied": [1]}
    finally:
        config_data._sections.pop("extra")


def test_cli_export_and_import(app, app_ctx, runner, tmp_path, make_learner):
    staff(make_learner)
    db.session.commit()
    out = tmp_path / "config.json"
    result = runner.invoke(args=["thrive", "export-config", "--output", str(out)])
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    doc["rules"] = [r for r in doc["rules"] if r["activity_type"] == "battle_won"]
    doc["rules"][0]["base_points"] = 99
    out.write_text(json.dumps(doc))
    dry = runner.invoke(args=["thrive", "import-config", str(out), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "battle_won" in dry.output and "nothing written" in dry.output
    with app.app_context():
        assert db.session.get(PointRule, "battle_won").base_points == 20
    real = runner.invoke(args=["thrive", "import-config", str(out), "--as", "boss"])
    assert real.exit_code == 0, real.output
    with app.app_context():
        assert db.session.get(PointRule, "battle_won").base_points == 99
        assert audit_actions() == ["config.import"]
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    result = runner.invoke(args=["thrive", "import-config", str(bad)])
    assert result.exit_code == 2 and "not valid JSON" in result.output
    bad.write_text(json.dumps({"thrive_config": 1, "levels": [5, 1]}))
    result = runner.invoke(args=["thrive", "import-config", str(bad)])
    assert result.exit_code == 2 and "levels" in result.output
    result = runner.invoke(args=["thrive", "import-config", str(out), "--as", "nobody"])
    assert result.exit_code == 2
