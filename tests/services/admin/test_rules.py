"""Point rules for staff (§4.2, §4.4, §11): validation, versions, pricing from then on, the dry run."""
from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.community_support import give
from tests.services.admin.economy_support import audit_actions, staff
from thrive.extensions import db
from thrive.models import LedgerEntry, PointRule, PointRuleVersion
from thrive.services.admin import rules
from thrive.services.errors import ActivityDisabled, NotFound
from thrive.services.points.award import award


def quiz_data(**changes) -> dict:
    data = rules.rule_snapshot(db.session.get(PointRule, "quiz_completed"))
    db.session.commit()
    data.update(changes)
    return data


@pytest.mark.parametrize(("changes", "field", "code"), [
    ({"label": ""}, "label", "required"),
    ({"label": "x" * 121}, "label", "too_long"),
    ({"category": "cooking"}, "category", "unknown_category"),
    ({"base_points": None}, "base_points", "required"),
    ({"base_points": "ten"}, "base_points", "not_integer"),
    ({"base_points": -5}, "base_points", "negative"),
    ({"max_per_day": 0}, "max_per_day", "out_of_range"),
    ({"max_per_week": -1}, "max_per_week", "out_of_range"),
    ({"perfect_bonus_percent": 5000}, "perfect_bonus_percent", "out_of_range"),
    ({"min_points": 50, "max_points": 10}, "max_points", "min_over_max"),
    ({"difficulty_points": {"Hard!": 5}}, "difficulty_points", "invalid_difficulty"),
    ({"difficulty_points": {"hard": -5}}, "difficulty_points", "invalid_difficulty"),
    ({"notes": "n" * 2001}, "notes", "too_long"),
])
def test_validation_errors_per_field(app_ctx, changes, field, code):
    with pytest.raises(rules.RuleErrors) as caught:
        rules.validate_rule(quiz_data(**changes), is_new=False)
    assert caught.value.errors[field] == code


def test_new_rule_key_must_be_fresh_and_well_formed(app_ctx):
    for key, code in (("", "required"), ("Bad Key", "invalid_key"), ("quiz_completed", "taken")):
        with pytest.raises(rules.RuleErrors) as caught:
            rules.validate_rule(quiz_data(activity_type=key), is_new=True)
        assert caught.value.errors["activity_type"] == code


def test_negative_base_allowed_only_with_allow_negative(app_ctx):
    clean = rules.validate_rule(quiz_data(base_points=-5, allow_negative=True), is_new=False)
    assert clean["base_points"] == -5


def test_save_creates_versions_and_one_audit_entry(app_ctx, make_learner):
    admin = staff(make_learner)
    result = rules.save_rule(admin, quiz_data(base_points=30, label="Finished a quiz"),
                             activity_type="quiz_completed")
    assert (result.version, result.changed, result.created) == (2, True, False)
    versions = rules.versions("quiz_completed")
    assert [v.version for v in versions] == [2, 1]
    assert versions[1].author_id is None and versions[1].snapshot["base_points"] == 20
    assert versions[0].author_id == admin.id and versions[0].snapshot["base_points"] == 30
    assert audit_actions() == ["rule.update"]
    # saving the same thing again is not a change: no version, no audit entry
    again = rules.save_rule(admin, quiz_data(), activity_type="quiz_completed")
    assert again.changed is False and again.version == 2
    assert audit_actions() == ["rule.update"]
    assert len(rules.versions("quiz_completed")) == 2


def test_rule_change_prices_only_later_awards_and_entries_record_the_version(app, app_ctx, make_learner):
    admin, learner = staff(make_learner), make_learner()
    first = give(app, learner.id, "quiz_completed")
    assert first.points_awarded == 20
    rules.save_rule(admin, quiz_data(base_points=35), activity_type="quiz_completed")
    second = give(app, learner.id, "quiz_completed")
    assert second.points_awarded == 35
    db.session.commit()
    before, after = db.session.get(LedgerEntry, first.event_id), db.session.get(LedgerEntry, second.event_id)
    assert (before.points, before.rule_version) == (20, 1)   # never rewritten (§4.4)
    assert (after.points, after.rule_version) == (35, 2)
    version = db.session.scalar(select(PointRuleVersion).where(PointRuleVersion.activity_type == "quiz_completed",
                                                               PointRuleVersion.version == after.rule_version))
    assert version.snapshot["base_points"] == 35


def test_add_rule_and_award_it(app, app_ctx, make_learner):
    admin, learner = staff(make_learner), make_learner()
    data = quiz_data(activity_type="poster_presented", label="Presented a poster", category="creation",
                     base_points=40, difficulty_points=None, perfect_bonus_percent=0, max_per_day=2)
    result = rules.save_rule(admin, data)
    assert result.created and result.version == 1
    assert give(app, learner.id, "poster_presented").points_awarded == 40
    assert audit_actions() == ["rule.create"]


def test_disable_and_enable(app, app_ctx, make_learner):
    admin, learner = staff(make_learner), make_learner()
    rules.set_enabled(admin, "battle_won", False)
    with pytest.raises(ActivityDisabled):
        award(learner.id, "battle_won", event_key="bw:1")
    rules.set_enabled(admin, "battle_won", True)
    assert award(learner.id, "battle_won", event_key="bw:2").points_awarded == 20
    assert audit_actions() == ["rule.update", "rule.update"]
    with pytest.raises(NotFound):
        rules.set_enabled(admin, "nope", True)


# --- dry run -----------------------------------------------------------------------

NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)


def _seed_quizzes(app, learners):
    """Quizzes over 40 days: some days over a cap of 2, mixed difficulties; a few older than the window."""
    difficulties = ["beginner", "advanced", None]
    n = 0
    for li, learner in enumerate(learners):
        for day in range(0, 40, 3):
            for k in range(1 + (day + li) % 4):
                n += 1
                meta = {"topic": "T"}
                if difficulties[n % 3]:
                    meta["difficulty"] = difficulties[n % 3]
                at = NOW - timedelta(days=day, hours=k + 1)
                with app.app_context():
                    award(learner.id, "quiz_completed", event_key=f"dry:{n}", occurred_at=at, metadata=meta, now=NOW)
                    db.session.remove()


def test_dry_run_matches_a_direct_computation_from_the_ledger(app, app_ctx, make_learner):
    learners = [make_learner(timezone=tz) for tz in ("UTC", "America/New_York", "Asia/Tokyo")]
    _seed_quizzes(app, learners)
    proposed = quiz_data(base_points=7, difficulty_points={"beginner": 3, "advanced": 11}, max_per_day=2)
    result = rules.dry_run("quiz_completed", proposed, now=NOW)

    since = NOW - timedelta(days=30)
    rows = [r for r in db.session.scalars(select(LedgerEntry).where(LedgerEntry.activity_type == "quiz_completed")
                                          .order_by(LedgerEntry.id))
            if since <= r.occurred_at.replace(tzinfo=UTC) < NOW]
    assert result.actual.events == len(rows)
    assert result.actual.points == sum(r.points for r in rows)
    assert result.actual.capped == sum(r.capped for r in rows)
    per_day = defaultdict(int)
    points = capped = 0
    for r in rows:
        amount = {"beginner": 3, "advanced": 11}.get((r.meta or {}).get("difficulty"), 7)
        if per_day[(r.learner_id, r.local_date)] >= 2:
            capped += 1
        else:
            per_day[(r.learner_id, r.local_date)] += 1
            points += amount
    assert (result.proposed.events, result.proposed.points, result.proposed.capped) == (len(rows), points, capped)
    assert capped > 0 and result.learners == 3
    # nothing written
    assert db.session.get(PointRule, "quiz_completed").version == 1


def test_dry_run_of_a_disabled_rule_rejects_everything(app, app_ctx, make_learner):
    learner = make_learner()
    _seed_quizzes(app, [learner])
    result = rules.dry_run("quiz_completed", quiz_data(enabled=False), now=NOW)
    assert result.proposed.events == 0 and result.proposed.points == 0
    assert result.rejected == result.actual.events > 0


def test_dry_run_validates(app_ctx):
    with pytest.raises(rules.RuleErrors):
        rules.dry_run("quiz_completed", quiz_data(base_points=-1), now=NOW)
