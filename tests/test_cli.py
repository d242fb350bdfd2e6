"""Core `flask thrive …` commands (§12)."""
from __future__ import annotations

from sqlalchemy import func, select

from thrive.extensions import db
from thrive.models import ApiKey, Learner, LedgerEntry, PointRule, Tier
from thrive.services.accounts.api_keys import verify_api_key


def test_seed_is_idempotent_and_keeps_admin_edits(app, runner):
    with app.app_context():
        rule = db.session.get(PointRule, "comment_posted")
        rule.base_points = 7
        db.session.get(Tier, "spark").threshold = 300
        db.session.delete(db.session.get(PointRule, "battle_won"))
        db.session.commit()
    result = runner.invoke(args=["thrive", "seed"])
    assert result.exit_code == 0 and "1 rules" in result.output
    with app.app_context():
        assert db.session.get(PointRule, "comment_posted").base_points == 7
        assert db.session.get(Tier, "spark").threshold == 300
        assert db.session.get(PointRule, "battle_won") is not None
        assert db.session.scalar(select(func.count()).select_from(PointRule)) == 23


def test_create_admin_and_api_key(app, runner):
    result = runner.invoke(args=["thrive", "create-admin", "boss", "--password", "longenough1"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(Learner).where(Learner.username == "boss")).is_admin
    short = runner.invoke(args=["thrive", "create-admin", "boss2", "--password", "short"])
    assert short.exit_code != 0 and "at least 8" in short.output
    result = runner.invoke(args=["thrive", "create-api-key", "quiz engine"])
    assert result.exit_code == 0
    key = result.output.strip().splitlines()[-1]
    assert key.startswith("thr_") and " " not in key
    with app.app_context():
        row = verify_api_key(key)
        assert row is not None and row.name == "quiz engine"
        assert key not in {r.key_hash for r in db.session.scalars(select(ApiKey))}
    revoke = runner.invoke(args=["thrive", "revoke-api-key", str(row.id)])
    assert revoke.exit_code == 0
    with app.app_context():
        assert verify_api_key(key) is None
    assert runner.invoke(args=["thrive", "revoke-api-key", "nope"]).exit_code == 1


def test_award_command(app, runner, make_learner):
    make_learner("ada")
    result = runner.invoke(args=["thrive", "award", "ada", "quiz_completed", "--key", "k1",
                                 "--meta", '{"difficulty": "advanced"}'])
    assert result.exit_code == 0, result.output
    assert "+50 points" in result.output
    again = runner.invoke(args=["thrive", "award", "ada", "quiz_completed", "--key", "k1",
                                "--meta", '{"difficulty": "advanced"}'])
    assert "duplicate" in again.output
    bad_json = runner.invoke(args=["thrive", "award", "ada", "quiz_completed", "--meta", "{nope"])
    assert bad_json.exit_code == 2 and "not valid JSON" in bad_json.output
    unknown = runner.invoke(args=["thrive", "award", "ghost", "quiz_completed"])
    assert unknown.exit_code == 1 and "no learner" in unknown.output
    bad_type = runner.invoke(args=["thrive", "award", "ada", "flying"])
    assert bad_type.exit_code == 1 and "unknown_activity_type" in bad_type.output
    adjustment = runner.invoke(args=["thrive", "award", "ada", "admin_adjustment", "--points", "-20",
                                     "--description", "typo"])
    assert adjustment.exit_code == 0 and "-20 points" in adjustment.output
    with app.app_context():
        assert db.session.scalar(select(func.count(LedgerEntry.id))) == 2
