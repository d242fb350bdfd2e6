"""The community feed and cheers (§8.1, §8.3, §8.4): one test per rule, on SQLite and PostgreSQL."""
from __future__ import annotations

import dataclasses
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.community_support import ago, give
from thrive.extensions import db
from thrive.models import Cheer, Circle, CircleMembership, Follow, LedgerEntry, PointRule, ProgressionEvent
from thrive.services.community import cheers as community
from thrive.services.community import feed
from thrive.services.errors import Conflict, NotFound, ValidationError
from thrive.services.points import registry
from thrive.timeutil import platform_week

UTC = UTC


def page(viewer_id, **kwargs) -> feed.FeedPage:
    db.session.expire_all()
    return feed.feed_page(viewer_id, **kwargs)


def sentences(fp: feed.FeedPage) -> list[str]:
    return [f"{i.actor.name} {i.predicate}" for i in fp.items]


# --- what is shown, how it reads -------------------------------------------------------------

def test_sentences_newest_first_with_topic_and_tier_up(app, app_ctx, make_learner):
    viewer = make_learner("viewer")
    sarah = make_learner("sarah", display_name="Sarah")
    marcus = make_learner("marcus", display_name="Marcus")
    aisha = make_learner("aisha", display_name="Aisha")
    give(app, sarah.id, "quiz_completed", metadata={"topic": "DDD", "difficulty": "advanced"}, at=ago(minutes=30))
    give(app, marcus.id, "project_created", at=ago(minutes=20))
    give(app, aisha.id, "special_event", points=300, at=ago(minutes=10))  # crosses Spark (250)

    fp = page(viewer.id)
    assert sentences(fp) == [
        "Aisha reached Spark! ✨",
        "Aisha took part in a special event",
        "Marcus created a project",
        "Sarah completed a quiz on DDD",
    ]
    assert [i.kind for i in fp.items] == ["tier_up", "entry", "entry", "entry"]
    assert fp.next_cursor is None


def test_no_point_amounts_in_feed_items(app, app_ctx, make_learner):
    """§8.1 "never point amounts": a feed item has no points field, and no sentence carries the amount."""
    viewer, peer = make_learner(), make_learner()
    give(app, peer.id, "special_event", points=777, at=ago(minutes=1))
    fp = page(viewer.id)
    fields = {f.name for f in dataclasses.fields(feed.FeedItem)}
    assert not {"points", "amount", "total_points"} & fields
    assert fp.items and all("777" not in i.predicate for i in fp.items)


def test_capped_and_zero_entries_never_appear(app, app_ctx, make_learner):
    viewer, peer = make_learner(), make_learner()
    results = [give(app, peer.id, "quiz_completed", at=ago(minutes=50 - i)) for i in range(11)]  # cap 10/day
    assert results[-1].capped and results[-1].points_awarded == 0
    # a runtime-added rule (§4.2) that allows 0 points: a 0-point entry is not shown either
    db.session.add(PointRule(activity_type="kudos_noted", label="Kudos noted", category="community",
                             base_points=3, allow_custom_points=True, min_points=0, max_points=5))
    db.session.commit()
    registry.invalidate()
    zero = give(app, peer.id, "kudos_noted", points=0, at=ago(minutes=5))
    shown = give(app, peer.id, "kudos_noted", at=ago(minutes=4))

    ids = {i.id for i in page(viewer.id).items if i.kind == "entry"}
    assert results[-1].event_id not in ids
    assert zero.event_id not in ids
    assert {r.event_id for r in results[:10]} | {shown.event_id} == ids
    unknown = next(i for i in page(viewer.id).items if i.id == shown.event_id)
    assert unknown.predicate == "took part: kudos noted"  # unknown types read from the rule label


def test_hidden_activity_types(app, app_ctx, make_learner):
    viewer, peer = make_learner(), make_learner()
    give(app, peer.id, "daily_login", at=ago(minutes=3))
    give(app, peer.id, "admin_adjustment", points=50, description="bonus", at=ago(minutes=2))
    assert page(viewer.id).items == []


def test_window_is_last_seven_days(app, app_ctx, make_learner):
    viewer, peer = make_learner(), make_learner()
    old = give(app, peer.id, at=ago(days=7, minutes=5))
    recent = give(app, peer.id, at=ago(days=6, hours=23))
    assert [i.id for i in page(viewer.id).items] == [recent.event_id]
    # the profile feed looks back 30 days
    assert [i.id for i in page(viewer.id, scope="profile", learner_id=peer.id).items] == [
        recent.event_id, old.event_id]


def test_share_activities_off_hides_everything_everywhere(app, app_ctx, make_learner):
    viewer = make_learner()
    private = make_learner(share_activities=False)
    give(app, private.id, "special_event", points=600, at=ago(minutes=5))  # activity and two tier-ups
    db.session.add(Follow(follower_id=viewer.id, followed_id=private.id))
    db.session.commit()
    assert db.session.scalar(select(func.count(ProgressionEvent.id)).where(ProgressionEvent.kind == "tier_up")) == 2
    for scope in ("everyone", "following"):
        assert page(viewer.id, scope=scope).items == []
    assert page(viewer.id, scope="profile", learner_id=private.id).items == []


def test_share_tier_upgrades_off_hides_tier_ups_only(app, app_ctx, make_learner):
    viewer = make_learner()
    quiet = make_learner(share_tier_upgrades=False)
    give(app, quiet.id, "special_event", points=300, at=ago(minutes=5))
    fp = page(viewer.id)
    assert [i.kind for i in fp.items] == ["entry"]
    assert community.weekly_stats(now=datetime.now(UTC)).tier_ups == 0


def test_private_profile_is_a_learner_without_link(app, app_ctx, make_learner):
    viewer = make_learner()
    hidden = make_learner("hiddenname", display_name="Hidden Person", share_profile=False)
    give(app, hidden.id, at=ago(minutes=1))
    (item,) = page(viewer.id).items
    assert item.actor.name == "A learner" and item.actor.public_username is None


def test_following_scope_shows_followed_learners_and_their_tier_ups(app, app_ctx, make_learner):
    viewer, followed, other = make_learner(), make_learner(), make_learner()
    db.session.add(Follow(follower_id=viewer.id, followed_id=followed.id))
    db.session.commit()
    give(app, followed.id, "special_event", points=300, at=ago(minutes=5))
    give(app, other.id, at=ago(minutes=4))
    fp = page(viewer.id, scope="following")
    assert {i.actor.id for i in fp.items} == {followed.id}
    assert [i.kind for i in fp.items] == ["tier_up", "entry"]


# --- paging ------------------------------------------------------------------------------------

def test_paging_with_cursor_has_no_gaps_or_duplicates(app, app_ctx, make_learner):
    viewer, a, b = make_learner(), make_learner(), make_learner()
    base = ago(hours=2)
    expected = []
    for i in range(23):
        who = a if i % 2 else b
        # pairs of awards at the same instant exercise the id tie-break
        r = give(app, who.id, "comment_posted", at=base + timedelta(seconds=i // 2))
        expected.append(r.event_id)
    r = give(app, a.id, "special_event", points=300, at=base + timedelta(seconds=5))  # tier-up at a shared instant
    seen: list[tuple[str, int]] = []
    cursor = None
    sizes = []
    while True:
        fp = page(viewer.id, before=cursor, limit=10, group=False)
        sizes.append(len(fp.items))
        seen += [(i.kind, i.id) for i in fp.items]
        keys = [i.sort_key for i in fp.items]
        assert keys == sorted(keys, reverse=True)
        if not fp.next_cursor:
            break
        cursor = fp.next_cursor
    assert sizes == [10, 10, 5]
    assert len(seen) == len(set(seen)) == 25
    assert {i for k, i in seen if k == "entry"} == set(expected) | {r.event_id}
    tier_pos = seen.index(("tier_up", next(i for k, i in seen if k == "tier_up")))
    assert seen[tier_pos + 1] == ("entry", r.event_id)  # the tier-up precedes the award that caused it


def test_bad_cursor_is_a_validation_error(app_ctx, make_learner):
    viewer = make_learner()
    for bad in ("nope", "MjAyNnwxfDE", "!!!"):
        with pytest.raises(ValidationError):
            feed.feed_page(viewer.id, before=bad)
    with pytest.raises(ValidationError):
        feed.feed_page(viewer.id, limit=0)


# --- grouping ----------------------------------------------------------------------------------

def _item(kind, ident, actor_id, name, at, activity="quiz_completed", tier=None):
    actor = feed.Actor(actor_id, name.lower(), name, True)
    if kind == "tier_up":
        phrase = feed.Phrase(f"reached {tier}!", f"reached {tier}!")
        return feed.FeedItem(kind, ident, actor, at, None, f"reached {tier}!", f"tier_up:{tier}", phrase)
    return feed.FeedItem(kind, ident, actor, at, activity, feed.entry_predicate(activity, None), activity,
                         feed.PHRASES[activity])


def test_grouping_rule(app_ctx):
    t = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    items = [
        _item("entry", 9, 1, "Sarah", t, "quiz_completed"),
        _item("entry", 8, 2, "Marcus", t - timedelta(minutes=5), "quiz_completed"),
        _item("entry", 7, 3, "Aisha", t - timedelta(minutes=9), "quiz_completed"),
        _item("entry", 6, 1, "Sarah", t - timedelta(minutes=20), "project_created"),       # breaks the run
        _item("entry", 5, 1, "Sarah", t - timedelta(minutes=30), "comment_posted"),
        _item("entry", 4, 1, "Sarah", t - timedelta(minutes=40), "comment_posted"),
        _item("entry", 3, 1, "Sarah", t - timedelta(minutes=45), "comment_posted"),
        _item("entry", 2, 2, "Marcus", t - timedelta(hours=30), "comment_posted"),         # > 24 h after the run's head
        _item("tier_up", 2, 4, "Lee", t - timedelta(hours=31), tier="Spark"),
        _item("tier_up", 1, 5, "Kim", t - timedelta(hours=32), tier="Spark"),
    ]
    units = feed.group_items(items)
    kinds = [(type(u).__name__, len(u.items) if isinstance(u, feed.FeedGroup) else 1) for u in units]
    assert kinds == [("FeedGroup", 3), ("FeedItem", 1), ("FeedGroup", 3), ("FeedItem", 1), ("FeedGroup", 2)]
    assert units[0].headline == "3 people completed a quiz" and units[0].actor is None
    assert units[2].actor.name == "Sarah" and units[2].headline == "joined 3 discussions"
    assert units[4].headline == "2 people reached Spark!"
    # every item stays reachable (and cheerable) inside its group
    assert sum(len(u.items) if isinstance(u, feed.FeedGroup) else 1 for u in units) == len(items)
    # "in your circle" only when every learner in the group is a circle peer
    assert feed.group_items(items[:3], {1, 2, 3})[0].headline == "3 people in your circle completed a quiz"
    assert feed.group_items(items[:3], {1, 2})[0].headline == "3 people completed a quiz"


def test_grouping_in_feed_page_with_circle(app, app_ctx, make_learner):
    viewer = make_learner()
    peers = [make_learner() for _ in range(3)]
    week = platform_week(datetime.now(UTC))
    circle = Circle(week=week, tier_key="ember", name="Ember Circle A")
    db.session.add(circle)
    db.session.flush()
    for who in [viewer, *peers]:
        db.session.add(CircleMembership(circle_id=circle.id, learner_id=who.id, week=week))
    db.session.commit()
    for n, who in enumerate(peers):
        give(app, who.id, "quiz_completed", at=ago(minutes=10 - n))
    fp = page(viewer.id)
    (group,) = fp.units
    assert isinstance(group, feed.FeedGroup)
    assert group.headline == "3 people in your circle completed a quiz"
    assert page(viewer.id, group=False).units == page(viewer.id, group=False).items


# --- cheers ------------------------------------------------------------------------------------

def test_cheer_awards_the_cheerer_with_diminishing_returns(app, app_ctx, make_learner):
    cheerer, sarah, marcus = make_learner(), make_learner(), make_learner()
    s_items = [give(app, sarah.id, at=ago(minutes=30 - i)).event_id for i in range(4)]
    m_item = give(app, marcus.id, "project_created", at=ago(minutes=20)).event_id
    now = datetime.now(UTC)

    got = [community.cheer(cheerer.id, "entry", s_items[i], now=now + timedelta(minutes=i)).points_awarded
           for i in range(3)]
    assert got == [2, 1, 0]  # first, second, later cheers of the same person within 24 h
    assert community.cheer(cheerer.id, "entry", m_item, now=now + timedelta(minutes=4)).points_awarded == 2
    # 24 h after the first cheers the ladder starts again
    later = now + timedelta(hours=24, minutes=3)
    assert community.cheer(cheerer.id, "entry", s_items[3], now=later).points_awarded == 2

    entries = db.session.scalars(select(LedgerEntry).where(LedgerEntry.learner_id == cheerer.id)
                                 .order_by(LedgerEntry.id)).all()
    assert [e.activity_type for e in entries] == ["reaction_given"] * 5
    assert [e.points for e in entries] == [2, 1, 0, 2, 2]
    assert entries[0].event_key == f"cheer:{cheerer.id}:entry:{s_items[0]}"
    assert db.session.scalar(select(func.count(Cheer.id))) == 5
    assert all(c.recipient_id in (sarah.id, marcus.id) for c in db.session.scalars(select(Cheer)))
    # the cheered items show a count and the viewer's cheer; the cheers themselves are not feed items
    fp = page(cheerer.id, group=False)
    cheered = {i.id: (i.cheers, i.cheered) for i in fp.items}
    assert cheered[s_items[0]] == (1, True) and cheered[m_item] == (1, True)
    assert all(i.activity_type != "reaction_given" for i in fp.items)


def test_cheer_rules_self_once_and_visible_only(app, app_ctx, make_learner):
    cheerer, peer = make_learner(), make_learner()
    private = make_learner(share_activities=False)
    own = give(app, cheerer.id, at=ago(minutes=5)).event_id
    item = give(app, peer.id, at=ago(minutes=4)).event_id
    hidden = give(app, private.id, at=ago(minutes=3)).event_id
    login = give(app, peer.id, "daily_login", at=ago(minutes=2)).event_id

    with pytest.raises(ValidationError) as exc:
        community.cheer(cheerer.id, "entry", own)
    assert exc.value.code == "cannot_cheer_self"
    assert community.cheer(cheerer.id, "entry", item).points_awarded == 2
    with pytest.raises(Conflict) as exc:
        community.cheer(cheerer.id, "entry", item)
    assert exc.value.code == "already_cheered"
    for target in (hidden, login, 999999):
        with pytest.raises(NotFound):
            community.cheer(cheerer.id, "entry", target)
    with pytest.raises(ValidationError):
        community.cheer(cheerer.id, "bogus", item)
    assert db.session.scalar(select(func.count(Cheer.id))) == 1
    assert db.session.scalar(select(func.count(LedgerEntry.id)).where(
        LedgerEntry.learner_id == cheerer.id, LedgerEntry.activity_type == "reaction_given")) == 1


def test_cheer_a_tier_up(app, app_ctx, make_learner):
    cheerer, peer = make_learner(), make_learner()
    quiet = make_learner(share_tier_upgrades=False)
    give(app, peer.id, "special_event", points=300, at=ago(minutes=5))
    give(app, quiet.id, "special_event", points=300, at=ago(minutes=5))
    tier_ups = db.session.execute(select(ProgressionEvent.id, ProgressionEvent.learner_id)
                                  .where(ProgressionEvent.kind == "tier_up")).all()
    shared = next(i for i, lid in tier_ups if lid == peer.id)
    unshared = next(i for i, lid in tier_ups if lid == quiet.id)
    assert community.cheer(cheerer.id, "tier_up", shared).points_awarded == 2
    with pytest.raises(NotFound):
        community.cheer(cheerer.id, "tier_up", unshared)


def test_cheer_daily_cap_applies(app, app_ctx, make_learner):
    """reaction_given is capped at 20 a day (§4.2): the 21st cheer that day earns 0 and is marked capped."""
    cheerer = make_learner()
    items = []
    for _ in range(21):
        peer = make_learner(password=None)
        items.append(give(app, peer.id, at=ago(minutes=30)).event_id)
    results = [community.cheer(cheerer.id, "entry", i) for i in items]
    assert [r.points_awarded for r in results] == [2] * 20 + [0]
    assert results[-1].capped and not any(r.capped for r in results[:-1])
    assert db.session.scalar(select(func.count(Cheer.id))) == 21  # the cheer itself still counts
    capped = db.session.scalar(select(LedgerEntry).where(LedgerEntry.capped.is_(True)))
    assert capped.activity_type == "reaction_given" and capped.points == 0


def test_concurrent_cheers_between_the_same_two_people_stay_diminishing(app, make_learner):
    """Four cheers of the same recipient at once: 2, 1, 0, 0 points — never 2 each (§8.1)."""
    cheerer, peer = make_learner(), make_learner()
    items = [give(app, peer.id, at=ago(minutes=10 - i)).event_id for i in range(4)]
    barrier = threading.Barrier(len(items))
    out: list = []
    errors: list = []

    def run(target):
        with app.app_context():
            try:
                barrier.wait()
                out.append(community.cheer(cheerer.id, "entry", target).points_awarded)
            except Exception as exc:  # noqa: BLE001 — reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in items]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(out) == [0, 0, 1, 2]
    with app.app_context():
        assert db.session.scalar(select(func.sum(LedgerEntry.points)).where(LedgerEntry.learner_id == cheerer.id)) == 3
        assert db.session.scalar(select(func.count(Cheer.id))) == 4
