"""The visibility module (§8.1, §8.4): each switch, SQL and Python twins agree, every consumer honours them."""
from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.community_support import give
from thrive.extensions import db
from thrive.models import Learner, ProgressionEvent
from thrive.services.community import discover, follows, visibility
from thrive.services.community.cheers import cheer, public_profile, visible_learner
from thrive.services.community.feed import feed_page
from thrive.services.errors import NotFound
from thrive.services.notifications import inbox
from thrive.services.weekly.circles import assign_circles, circle_panel
from thrive.timeutil import platform_week, utcnow

A = visibility.ANONYMOUS_NAME


@pytest.mark.parametrize(("share_profile", "active", "expected"), [
    (True, True, "Sarah"), (False, True, A), (True, False, A), (False, False, A)])
def test_public_name_switches(share_profile, active, expected):
    assert visibility.public_name("Sarah", share_profile, active) == expected
    assert visibility.public_username("sarah", share_profile, active) == ("sarah" if expected != A else None)
    assert visibility.public_name("Sarah", share_profile, active, is_viewer=True) == "Sarah"


def test_learner_public_name_of_missing_learner_is_anonymous():
    assert visibility.learner_public_name(None) == A and visibility.learner_public_username(None) is None


@pytest.mark.parametrize(("points", "capped", "activity", "share", "active", "visible"), [
    (20, False, "quiz_completed", True, True, True),
    (0, False, "quiz_completed", True, True, False),
    (-5, False, "quiz_completed", True, True, False),
    (20, True, "quiz_completed", True, True, False),
    (5, False, "daily_login", True, True, False),
    (2, False, "reaction_given", True, True, False),
    (9, False, "admin_adjustment", True, True, False),
    (20, False, "quiz_completed", False, True, False),
    (20, False, "quiz_completed", True, False, False),
])
def test_entry_predicate_switches(points, capped, activity, share, active, visible):
    assert visibility.entry_is_feed_visible(points, capped, activity, share, active) is visible


def test_sql_and_python_twins_agree(app_ctx, make_learner):
    """Every combination of the three switches and the active flag, read by SQL and by Python."""
    combos = list(itertools.product([True, False], repeat=4))
    ids = {}
    for n, (profile, activities, tiers, active) in enumerate(combos):
        learner = make_learner(f"combo{n}", share_profile=profile, share_activities=activities,
                               share_tier_upgrades=tiers)
        ids[learner.id] = (profile, activities, tiers, active)
    db.session.rollback()
    for lid, (_p, _a, _t, active) in ids.items():
        db.session.get(Learner, lid).is_active_account = active
    db.session.commit()
    sql_public = set(db.session.scalars(select(Learner.id).where(visibility.profile_public_sql(Learner))))
    sql_sharing = set(db.session.scalars(select(Learner.id).where(visibility.shares_activities_sql(Learner))))
    sql_stats = set(db.session.scalars(select(Learner.id).where(visibility.counts_in_tier_stats_sql(Learner))))
    for lid, (profile, activities, tiers, active) in ids.items():
        assert (lid in sql_public) is visibility.is_profile_public(profile, active)
        assert (lid in sql_sharing) is visibility.shares_activities(activities, active)
        assert (lid in sql_stats) is (tiers and active)
        for kind in ("tier_up", "level_up"):
            db.session.add(ProgressionEvent(learner_id=lid, kind=kind, from_value="a", to_value="b",
                                            occurred_at=utcnow()))
    db.session.commit()
    rows = db.session.execute(
        select(ProgressionEvent.id, ProgressionEvent.kind, Learner.share_tier_upgrades, Learner.share_activities,
               Learner.is_active_account, visibility.tier_up_feed_visible_sql(ProgressionEvent, Learner))
        .join(Learner, Learner.id == ProgressionEvent.learner_id)).all()
    assert len(rows) == 2 * len(combos)
    for _id, kind, tiers, activities, active, sql_visible in rows:
        assert bool(sql_visible) is visibility.tier_up_is_feed_visible(kind, tiers, activities, active)


def _deactivate(learner_id: int, *, active: bool = False) -> None:
    db.session.rollback()
    db.session.get(Learner, learner_id).is_active_account = active
    db.session.commit()


def _worded(app, learner_id: int):
    """The learner's notifications as the page words them (names at display time, through visibility)."""
    from thrive.web.notifications.text import notification_views

    with app.test_request_context("/notifications"):
        return notification_views(inbox.list_notifications(learner_id).items)


def test_deactivated_account_disappears_everywhere(app, app_ctx, make_learner):
    """Feed, profile, discover, follows lists and notifications all drop a deactivated learner's identity."""
    viewer = make_learner("viewer")
    frank = make_learner("frank", display_name="Frank", topics=["Python"])
    give(app, frank.id, "quiz_completed", metadata={"topic": "Python"})
    follows.follow(frank.id, viewer.id)
    follows.follow(viewer.id, frank.id)
    assert any(i.actor.name == "Frank" for i in feed_page(viewer.id).items)
    assert [c.display_name for c in discover.discover(viewer.id).people] == ["Frank"]
    assert follows.followers(viewer.id).people[0].name == "Frank"
    note = _worded(app, viewer.id)[0]
    assert note.title == "Frank started following you" and note.link == "/u/frank"

    _deactivate(frank.id)
    assert feed_page(viewer.id).items == []
    assert discover.discover(viewer.id).people == []
    with pytest.raises(NotFound):
        visible_learner("frank", viewer.id)
    assert follows.followers(viewer.id).people[0].name == A
    assert follows.following(viewer.id).people[0].username is None
    note = _worded(app, viewer.id)[0]
    assert note.title == f"{A} started following you" and note.link is None


def test_notification_names_follow_share_profile_switch(app, app_ctx, make_learner):
    """Defect 7: "Frank started following you" loses the name and link once Frank stops sharing his profile."""
    viewer = make_learner("viewer")
    frank = make_learner("frank", display_name="Frank")
    follows.follow(frank.id, viewer.id)
    assert _worded(app, viewer.id)[0].title == "Frank started following you"
    db.session.rollback()
    db.session.get(Learner, frank.id).share_profile = False
    db.session.commit()
    (note,) = _worded(app, viewer.id)
    assert note.title == "A learner started following you" and note.link is None
    # owner still sees their own profile; others do not
    assert public_profile("frank", frank.id).display_name == "Frank"
    with pytest.raises(NotFound):
        public_profile("frank", viewer.id)


def test_circle_panel_hides_deactivated_member(app, app_ctx, make_learner):
    """The panel's old copy of the rule ignored deactivated accounts: name and activity leaked."""
    week = platform_week(utcnow())
    before = utcnow() - timedelta(days=8)
    viewer = make_learner("viewer")
    gone = make_learner("gone", display_name="Gone Gina")
    for person in (viewer, gone):
        give(app, person.id, "comment_posted", at=before)
    assign_circles(week)
    db.session.commit()
    give(app, gone.id, "quiz_completed", metadata={"topic": "Secrets"})
    panel = circle_panel(viewer.id)
    assert "Gone Gina" in [m.display_name for m in panel.members]
    assert any(a.who == "Gone Gina" for a in panel.activities)
    _deactivate(gone.id)
    panel = circle_panel(viewer.id)
    assert "Gone Gina" not in [m.display_name for m in panel.members]
    assert A in [m.display_name for m in panel.members]
    assert not any("Secrets" in a.text for a in panel.activities)


def test_cheer_only_on_feed_visible_items(app, app_ctx, make_learner):
    """Defect 10: an entry older than the feed's 7 days cannot be cheered (it would reveal its owner)."""
    viewer = make_learner("viewer")
    owner = make_learner("owner", display_name="Olga")
    old = give(app, owner.id, "quiz_completed", at=utcnow() - timedelta(days=visibility.FEED_DAYS, hours=1))
    hidden = give(app, owner.id, "daily_login")
    fresh = give(app, owner.id, "quiz_completed", metadata={"topic": "x"})
    for target in (old.event_id, hidden.event_id):
        with pytest.raises(NotFound):
            cheer(viewer.id, "entry", target)
    assert cheer(viewer.id, "entry", fresh.event_id).recipient_name == "Olga"
