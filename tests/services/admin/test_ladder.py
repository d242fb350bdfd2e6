"""Tier ladder and level table for staff (§5, §1.2, §11): validation, curves, what-if, saving without demotion."""
from __future__ import annotations

import copy
from collections import Counter

import pytest
from sqlalchemy import func, select

from tests.community_support import give
from tests.services.admin.economy_support import audit_actions, staff
from thrive.extensions import db
from thrive.models import Celebration, Learner, LearnerState, Notification, ProgressionEvent
from thrive.services.admin import ladder
from thrive.services.points import registry
from thrive.services.points.defaults import LEVEL_STEP_BEYOND_TABLE


def current():
    registry.invalidate()
    table = ladder.current_ladder()
    db.session.commit()
    return copy.deepcopy(table["tiers"]), list(table["levels"])


def with_threshold(tiers, key, threshold):
    for t in tiers:
        if t["key"] == key:
            t["threshold"] = threshold
    return tiers


@pytest.mark.parametrize(("mutate", "path", "code"), [
    (lambda t, lv: t[0].update(threshold=10), "tiers", "first_not_zero"),
    (lambda t, lv: t[2].update(threshold=t[1]["threshold"]), "tiers", "not_increasing"),
    (lambda t, lv: t[1].update(colour="orange"), "tiers.1.colour", "invalid_colour"),
    (lambda t, lv: t[1].update(key=t[0]["key"]), "tiers.1.key", "duplicate_key"),
    (lambda t, lv: t[1].update(key="Not OK"), "tiers.1.key", "invalid_key"),
    (lambda t, lv: t[1].update(name=""), "tiers.1.name", "required"),
    (lambda t, lv: t[1].update(threshold="x"), "tiers.1", "not_integer"),
    (lambda t, lv: lv.__setitem__(0, 5), "levels", "first_not_zero"),
    (lambda t, lv: lv.__setitem__(3, lv[2]), "levels", "not_increasing"),
    (lambda t, lv: lv.clear(), "levels", "empty"),
    (lambda t, lv: t.clear(), "tiers", "empty"),
])
def test_validation_errors(app_ctx, mutate, path, code):
    tiers, levels = current()
    mutate(tiers, levels)
    with pytest.raises(ladder.LadderErrors) as caught:
        ladder.validate_ladder(tiers, levels)
    assert caught.value.errors[path] == code


def test_a_tier_someone_holds_cannot_be_removed(app, app_ctx, make_learner):
    learner = make_learner()
    give(app, learner.id, "special_event", points=300)  # Spark
    tiers, levels = current()
    tiers = [t for t in tiers if t["key"] != "spark"]
    with pytest.raises(ladder.LadderErrors) as caught:
        ladder.validate_ladder(tiers, levels)
    assert caught.value.errors["tiers"] == "tier_in_use"
    tiers2, _ = current()
    ladder.validate_ladder([t for t in tiers2 if t["key"] != "phoenix"], levels)  # nobody is Phoenix


def test_curves():
    assert ladder.curve_thresholds("linear", 5, 100, 0) == [0, 100, 200, 300, 400]
    assert ladder.curve_thresholds("increasing", 5, 100, 50) == [0, 100, 250, 450, 700]
    assert ladder.curve_thresholds("snowballing", 5, 100, 0.5) == [0, 100, 250, 475, 813]
    for bad in (("cubic", 5, 100, 1), ("linear", 1, 100, 1), ("linear", 5, 0, 1), ("linear", 5, 10, -1)):
        with pytest.raises(ladder.LadderErrors):
            ladder.curve_thresholds(*bad)


TOTALS = [0, 40, 120, 260, 480, 520, 990, 1500, 2600, 9000, 31000, 45000]


def _make_population(app, make_learner):
    ids = []
    for total in TOTALS:
        learner = make_learner()
        if total:
            give(app, learner.id, "admin_adjustment", points=total, description="setup")
        ids.append(learner.id)
    # one learner went down again (peak stays): tier/level never drop
    give(app, ids[8], "admin_adjustment", points=-2000, description="correction")
    return ids


def _brute_force(tiers, levels):
    keys = [t["key"] for t in tiers]
    today_tiers, new_tiers, today_levels, new_levels = Counter(), Counter(), Counter(), Counter()
    promoted = 0
    db.session.commit()
    for s in db.session.scalars(select(LearnerState).join(Learner).where(Learner.is_learner.is_(True))):
        reached = max(i for i, t in enumerate(tiers) if s.peak_points >= t["threshold"])
        stored = keys.index(s.tier_key) if s.tier_key in keys else -1
        new_idx = max(reached, stored)
        if s.peak_points >= levels[-1]:
            lvl = len(levels) + (s.peak_points - levels[-1]) // LEVEL_STEP_BEYOND_TABLE
        else:
            lvl = max(i + 1 for i, th in enumerate(levels) if s.peak_points >= th)
        new_level = max(lvl, s.level)
        today_tiers[s.tier_key] += 1
        new_tiers[keys[new_idx]] += 1
        today_levels[s.level] += 1
        new_levels[new_level] += 1
        promoted += new_idx > stored or new_level > s.level
    return today_tiers, new_tiers, today_levels, new_levels, promoted


@pytest.mark.parametrize("change", ["lower", "higher", "curve"])
def test_what_if_counts_equal_a_brute_force_count(app, app_ctx, make_learner, change):
    staff(make_learner)  # staff who are not learners are not counted
    _make_population(app, make_learner)
    tiers, levels = current()
    if change == "lower":
        tiers = with_threshold(with_threshold(tiers, "spark", 100), "blaze", 400)
        levels = [0, 30, 60, 100, 150, 250, 400, 600, 900, 1400]
    elif change == "higher":
        tiers = with_threshold(with_threshold(tiers, "spark", 600), "blaze", 900)
        tiers = with_threshold(with_threshold(tiers, "beacon", 3000), "phoenix", 8000)
        levels = [0, 500, 5000]
    else:
        levels = ladder.curve_thresholds("snowballing", 30, 40, 0.25)
    result = ladder.what_if(tiers, levels)
    today_t, new_t, today_l, new_l, promoted = _brute_force(tiers, levels)
    assert {t["key"]: t["today"] for t in result.tiers if t["today"]} == dict(today_t)
    assert {t["key"]: t["proposed"] for t in result.tiers if t["proposed"]} == dict(new_t)
    assert {r["level"]: r["today"] for r in result.levels if r["today"]} == dict(today_l)
    assert {r["level"]: r["proposed"] for r in result.levels if r["proposed"]} == dict(new_l)
    assert result.promoted == promoted and result.learners == len(TOTALS)
    if change == "lower":
        assert promoted > 0


def test_saving_a_higher_ladder_demotes_nobody(app, app_ctx, make_learner):
    admin = staff(make_learner)
    _make_population(app, make_learner)
    db.session.commit()
    before = {s.learner_id: (s.tier_key, s.level) for s in db.session.scalars(select(LearnerState))}
    tiers, _ = current()
    tiers = with_threshold(with_threshold(tiers, "spark", 600), "blaze", 900)
    tiers = with_threshold(with_threshold(tiers, "beacon", 3000), "phoenix", 80000)
    saved = ladder.save_ladder(admin, tiers, [0, 500, 5000], celebrate=True)
    assert saved.promoted == 0
    db.session.commit()
    after = {s.learner_id: (s.tier_key, s.level) for s in db.session.scalars(select(LearnerState))}
    assert after == before
    assert audit_actions() == ["ladder.update"]
    # and the next award still never lowers anything
    learner_id = next(lid for lid, (tier, _) in before.items() if tier == "spark")
    give(app, learner_id, "comment_posted")
    db.session.commit()
    assert db.session.get(LearnerState, learner_id).tier_key == "spark"


def _events(kind):
    db.session.commit()
    return db.session.scalar(select(func.count(ProgressionEvent.id)).where(ProgressionEvent.kind == kind,
                                                                           ProgressionEvent.ledger_entry_id.is_(None)))


@pytest.mark.parametrize("celebrate", [True, False])
def test_promotions_are_counted_and_celebrated_or_silent(app, app_ctx, make_learner, celebrate):
    admin = staff(make_learner)
    ids = _make_population(app, make_learner)
    tiers, levels = current()
    tiers = with_threshold(tiers, "spark", 100)
    expected = ladder.what_if(tiers, levels)
    celebrations_before = db.session.scalar(select(func.count(Celebration.id)))
    saved = ladder.save_ladder(admin, tiers, levels, celebrate=celebrate)
    assert saved.promoted == expected.promoted == saved.tier_promoted == 1  # the learner with 120 points
    db.session.commit()
    assert db.session.get(LearnerState, ids[2]).tier_key == "spark"
    new_celebrations = db.session.scalar(select(func.count(Celebration.id))) - celebrations_before
    notes = db.session.scalar(select(func.count(Notification.id)).where(Notification.learner_id == ids[2],
                                                                       Notification.type == "tier_up"))
    if celebrate:
        assert _events("tier_up") == 1 and new_celebrations == 1 and notes == 1
    else:
        assert _events("tier_up") == 0 and new_celebrations == 0 and notes == 0
    assert audit_actions() == ["ladder.update"]
    # the registry now serves the new ladder
    assert registry.load_registry().tier_for_points(120).key == "spark"


def test_level_promotions(app, app_ctx, make_learner):
    admin = staff(make_learner)
    ids = _make_population(app, make_learner)
    tiers, _ = current()
    saved = ladder.save_ladder(admin, tiers, [0, 10, 20, 30, 45], celebrate=True)
    db.session.commit()
    assert db.session.get(LearnerState, ids[1]).level == 4  # 40 points: ≥ 30 (level 4), < 45
    assert saved.level_promoted >= 1 and _events("level_up") >= 3
