"""The Everyone feed's per-process window cache (issue 12): shared between viewers, exact on privacy and moderation.

With ``THRIVE_FEED_CACHE_SECONDS`` on (production default 30 s), the grouped
window is read once per period; each page still re-reads its learners'
switches and names and its items' hidden state, so §8.4 and §11 apply at once.
"""
from __future__ import annotations

import pytest

from tests.community_support import ago, give
from thrive.extensions import db
from thrive.models import HiddenFeedItem, Learner
from thrive.services.community import feed


@pytest.fixture
def app_config(database_url) -> dict:
    return {"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "test-secret-key",
            "THRIVE_FEED_CACHE_SECONDS": 300}


def page(viewer_id, **kwargs) -> feed.FeedPage:
    db.session.commit()  # a new transaction sees awards committed by other sessions (SQLite snapshot)
    return feed.feed_page(viewer_id, **kwargs)


def test_window_is_read_once_per_period_and_shared_between_viewers(app, app_ctx, make_learner):
    viewer, other, sarah = make_learner(), make_learner(), make_learner(display_name="Sarah")
    give(app, sarah.id, "quiz_completed", metadata={"topic": "DDD"}, at=ago(minutes=5))
    first = page(viewer.id)
    assert [(i.actor.name, i.activity_type) for i in first.items] == [("Sarah", "quiz_completed")]
    give(app, sarah.id, "project_created", at=ago(minutes=1))
    assert [i.activity_type for i in page(other.id).items] == ["quiz_completed"]  # cached: new activity waits
    assert page(sarah.id).items[0].can_cheer is False  # own item, even from the shared window
    assert page(viewer.id).items[0].can_cheer is True
    feed.invalidate_feed_cache()
    assert [i.activity_type for i in page(viewer.id).items] == ["project_created", "quiz_completed"]


def test_privacy_switches_and_names_apply_at_once_despite_the_cache(app, app_ctx, make_learner):
    viewer, sarah = make_learner(), make_learner("sarahu", display_name="Sarah")
    give(app, sarah.id, "special_event", points=300, at=ago(minutes=5))  # an entry and a tier-up
    assert sorted(i.kind for i in page(viewer.id).items) == ["entry", "tier_up"]

    row = db.session.get(Learner, sarah.id)
    row.share_profile, row.display_name = False, "Sarah Renamed"
    db.session.commit()
    items = page(viewer.id).items
    assert {i.actor.name for i in items} == {"A learner"} and {i.actor.public_username for i in items} == {None}

    row = db.session.get(Learner, sarah.id)
    row.share_profile, row.share_tier_upgrades = True, False
    db.session.commit()
    assert [(i.kind, i.actor.name) for i in page(viewer.id).items] == [("entry", "Sarah Renamed")]

    row = db.session.get(Learner, sarah.id)
    row.share_activities = False
    db.session.commit()
    assert page(viewer.id).items == []


def test_hidden_item_leaves_the_cached_page_at_once(app, app_ctx, make_learner):
    viewer, peer = make_learner(), make_learner()
    give(app, peer.id, "quiz_completed", at=ago(minutes=5))
    give(app, peer.id, "project_created", at=ago(minutes=4))
    items = page(viewer.id).items
    assert len(items) == 2
    db.session.add(HiddenFeedItem(target_kind="entry", target_id=items[0].id, learner_id=peer.id))
    db.session.commit()
    assert [i.id for i in page(viewer.id).items] == [items[1].id]


def test_big_group_lists_its_newest_items_and_counts_all(app, app_ctx, make_learner):
    viewer = make_learner()
    people = [make_learner() for _ in range(feed.GROUP_ITEMS_SHOWN + 3)]
    for n, person in enumerate(people):
        give(app, person.id, "comment_posted", at=ago(minutes=30 - n))
    (group,) = page(viewer.id).units
    assert isinstance(group, feed.FeedGroup)
    assert group.count == group.people == len(people) and group.more == 3
    assert [i.actor.id for i in group.shown_items] == [p.id for p in reversed(people)][:feed.GROUP_ITEMS_SHOWN]
    assert page(viewer.id).items[:feed.GROUP_ITEMS_SHOWN] == group.shown_items
    assert len(page(viewer.id).items) == len(people)  # the page's items are all of its units' items
    # the oldest two are not listed: still never cheerable by their own learner, and nobody else's flag changes
    for oldest in people[:2]:
        flags = {i.actor.id: i.can_cheer for i in page(oldest.id).items}
        assert flags == {p.id: p.id != oldest.id for p in people}
    assert all(i.can_cheer for i in page(viewer.id).items)


def test_opened_group_from_the_cached_window_is_exact_on_privacy_and_moderation(app, app_ctx, make_learner):
    """feed_group (a group's items, fetched when it is opened) reads the cached window like feed_page."""
    viewer = make_learner()
    people = [make_learner(display_name=f"Person {n}") for n in range(4)]
    for n, person in enumerate(people):  # Person 0 newest
        give(app, person.id, "quiz_completed", at=ago(minutes=5 + n))
    (group,) = page(viewer.id).units
    key = group.head.group_key
    db.session.commit()
    opened = feed.feed_group(viewer.id, key)
    assert [i.actor.name for i in opened.shown_items] == ["Person 0", "Person 1", "Person 2"]
    assert opened.count == 4 and opened.more == 1
    assert all(i.can_cheer for i in opened.shown_items)
    assert [i.can_cheer for i in feed.feed_group(people[1].id, key).shown_items] == [True, False, True]

    row = db.session.get(Learner, people[0].id)
    row.share_activities = False
    db.session.commit()
    assert [i.actor.name for i in feed.feed_group(viewer.id, key).shown_items] == ["Person 1", "Person 2"]

    db.session.add(HiddenFeedItem(target_kind="entry", target_id=opened.shown_items[1].id,
                                  learner_id=people[1].id))
    db.session.commit()
    assert [i.actor.name for i in feed.feed_group(viewer.id, key).shown_items] == ["Person 2"]
    assert feed.feed_group(viewer.id, "quiz_completed:1999-01-01") is None
    with pytest.raises(feed.ValidationError):
        feed.feed_group(viewer.id, key, scope="profile")
