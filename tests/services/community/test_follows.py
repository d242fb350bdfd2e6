"""Follows (§8.3) and discover (§8.2): notification, idempotency, privacy in lists, random sampling."""
from __future__ import annotations

import random

import pytest
from flask import current_app
from sqlalchemy import func, select

from tests.community_support import set_total
from thrive.extensions import db
from thrive.models import Follow, Learner, Notification
from thrive.services.community import discover, follows
from thrive.services.errors import NotFound, ValidationError
from thrive.web.notifications.text import notification_views


def worded(notes: list[Notification]):
    """The notifications as the notifications page words them (the one wording, ``web/notifications/text.py``)."""
    with current_app.test_request_context():
        return notification_views(notes)


def notes_for(learner_id: int) -> list[Notification]:
    db.session.expire_all()
    return db.session.scalars(select(Notification).where(Notification.learner_id == learner_id)).all()


def test_follow_notifies_once_and_is_idempotent(app_ctx, make_learner):
    sarah = make_learner("sarah", display_name="Sarah")
    marcus = make_learner("marcus", display_name="Marcus")
    assert follows.follow(sarah.id, marcus.id).created
    assert not follows.follow(sarah.id, marcus.id).created
    assert follows.is_following(sarah.id, marcus.id) and not follows.is_following(marcus.id, sarah.id)
    (note,) = notes_for(marcus.id)
    (shown,) = worded([note])  # names are rendered at display time (§8.4)
    assert note.type == "new_follower" and shown.title == "Sarah started following you"
    assert shown.link == "/u/sarah" and note.dedupe_key == f"new_follower:{sarah.id}:{marcus.id}"
    assert "Sarah" not in note.title and note.link is None  # nothing personal stored
    # unfollow + follow again does not notify twice
    assert follows.unfollow(sarah.id, marcus.id)
    assert not follows.unfollow(sarah.id, marcus.id)
    assert follows.follow(sarah.id, marcus.id).created
    assert len(notes_for(marcus.id)) == 1
    assert db.session.scalar(select(func.count()).select_from(Follow)) == 1


def test_follow_notification_honours_prefs_and_privacy(app_ctx, make_learner):
    quiet = make_learner()
    learner = db.session.get(Learner, quiet.id)
    learner.notification_prefs = {"new_follower": False}
    db.session.commit()
    fan = make_learner()
    follows.follow(fan.id, quiet.id)
    assert notes_for(quiet.id) == []

    target = make_learner()
    secret = make_learner("secretfan", display_name="Secret Fan", share_profile=False)
    follows.follow(secret.id, target.id)
    (note,) = notes_for(target.id)
    (shown,) = worded([note])
    assert shown.title == "A learner started following you" == note.title
    assert shown.link is None and note.link is None and "secretfan" not in str(note.data)


def test_follow_errors(app_ctx, make_learner):
    me = make_learner()
    private = make_learner(share_profile=False)
    with pytest.raises(ValidationError) as exc:
        follows.follow(me.id, me.id)
    assert exc.value.code == "cannot_follow_self"
    with pytest.raises(NotFound):
        follows.follow(me.id, private.id)
    with pytest.raises(NotFound):
        follows.follow(me.id, 987654)
    assert db.session.scalar(select(func.count()).select_from(Follow)) == 0


def test_lists_newest_first_with_private_profiles_as_a_learner(app_ctx, make_learner):
    star = make_learner()
    fans = [make_learner(display_name=f"Fan {i}") for i in range(3)]
    for fan in fans:
        follows.follow(fan.id, star.id)
    # one fan later makes their profile private; the star still sees a follower, as "A learner"
    db.session.get(Learner, fans[1].id).share_profile = False
    db.session.commit()
    listing = follows.followers(star.id)
    assert listing.total == 3 and not listing.has_more
    assert [p.name for p in listing.people] == ["Fan 2", "A learner", "Fan 0"]
    assert [p.username for p in listing.people][1] is None
    assert [p.id for p in follows.following(fans[0].id).people] == [star.id]
    # someone whose profile became private can still be unfollowed
    follows.follow(star.id, fans[0].id)
    db.session.get(Learner, fans[0].id).share_profile = False
    db.session.commit()
    assert follows.unfollow(star.id, fans[0].id)


def test_lists_page(app_ctx, make_learner):
    star = make_learner()
    for _ in range(follows.LIST_PAGE_SIZE + 1):
        follows.follow(make_learner(password=None).id, star.id)
    first, second = follows.followers(star.id, 1), follows.followers(star.id, 2)
    assert len(first.people) == follows.LIST_PAGE_SIZE and first.has_more
    assert len(second.people) == 1 and not second.has_more
    assert not {p.id for p in first.people} & {p.id for p in second.people}
    with pytest.raises(ValidationError):
        follows.followers(star.id, 0)


# --- discover ----------------------------------------------------------------------------------

def test_discover_excludes_self_private_and_inactive(app_ctx, make_learner):
    me = make_learner()
    shown = [make_learner() for _ in range(4)]
    make_learner(share_profile=False)
    inactive = make_learner()
    db.session.get(Learner, inactive.id).is_active_account = False
    db.session.commit()
    result = discover.discover(me.id)
    assert {p.id for p in result.people} == {p.id for p in shown}
    follows.follow(me.id, shown[0].id)
    flags = {p.id: p.following for p in discover.discover(me.id).people}
    assert flags[shown[0].id] and not any(v for k, v in flags.items() if k != shown[0].id)


def test_discover_filters_by_tier_and_topic(app, app_ctx, make_learner):
    me = make_learner()
    py = make_learner(topics=["Python", "DDD"])
    rust = make_learner(topics=["Rust"])
    spark = make_learner(topics=["python"])
    set_total(app, spark.id, 300)
    assert {p.id for p in discover.discover(me.id, topic="PYTHON").people} == {py.id, spark.id}
    assert {p.id for p in discover.discover(me.id, tier="spark").people} == {spark.id}
    assert {p.id for p in discover.discover(me.id, tier="ember", topic="python").people} == {py.id}
    assert {p.id for p in discover.discover(me.id, tier="", topic=" ").people} == {py.id, rust.id, spark.id}
    card = next(p for p in discover.discover(me.id, topic="rust").people)
    assert card.topics == ("Rust",) and card.tier.key == "ember"
    with pytest.raises(ValidationError) as exc:
        discover.discover(me.id, tier="diamond")
    assert exc.value.code == "invalid_tier"
    with pytest.raises(ValidationError):
        discover.discover(me.id, topic="<script>")


def test_discover_is_a_random_sample_not_ordered_by_points(app, app_ctx, make_learner):
    me = make_learner()
    people = [make_learner(password=None) for _ in range(30)]
    for n, p in enumerate(people[:8]):
        set_total(app, p.id, 100 + 50 * n)
    samples = [tuple(c.id for c in discover.discover(me.id, rng=random.Random(seed)).people) for seed in range(8)]
    assert all(len(s) == discover.PAGE_SIZE == len(set(s)) for s in samples)
    assert len(set(samples)) > 1                        # different people / order per request
    assert len({frozenset(s) for s in samples}) > 1     # not always the same people either
    union = set().union(*samples)
    assert len(union) > discover.PAGE_SIZE
    assert me.id not in union


def test_discover_with_large_id_gaps_still_fills_the_page(app_ctx, make_learner):
    """Windows that start past the last matching id wrap around to the start of the index."""
    me = make_learner()
    few = [make_learner(password=None, topics=["Elixir"]) for _ in range(5)]
    for _ in range(20):
        make_learner(password=None)
    for seed in range(10):
        got = {p.id for p in discover.discover(me.id, topic="elixir", rng=random.Random(seed)).people}
        assert got == {p.id for p in few}


def test_discover_id_range_is_kept_a_minute_and_read_again(app, app_ctx, make_learner):
    """Discover's random windows start inside the learners' id range, kept per process for 60 s (issue 12)."""
    viewer, *people = [make_learner() for _ in range(4)]
    discover.discover(viewer.id)
    cache = current_app.extensions["thrive_discover_ids"]
    assert cache["range"] == (viewer.id, people[-1].id)
    late = make_learner()
    db.session.commit()
    shown = discover.discover(viewer.id)
    assert cache["range"] == (viewer.id, people[-1].id)       # kept…
    assert late.id in {c.id for c in shown.people}             # …yet who can be shown is read at request time
    cache.expire(cache.timer() + discover.ID_RANGE_SECONDS + 1)
    discover.discover(viewer.id)
    assert cache["range"] == (viewer.id, late.id)               # read again once a minute has passed
