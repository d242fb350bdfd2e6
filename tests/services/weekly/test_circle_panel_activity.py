"""The circle panel's "Recent activity" (§6.1, §8.1, §8.4): grouped by member and activity type in SQL.

Runs on SQLite and (with THRIVE_TEST_DATABASE_URL) PostgreSQL through the ``app`` fixture.
"""
from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from thrive.extensions import db
from thrive.services.points.award import award
from thrive.services.weekly.circles import assign_circles
from thrive.services.weekly.circles.panel import ACTIVITY_LIMIT, circle_panel
from thrive.timeutil import platform_week, utcnow

_keys = itertools.count()


@pytest.fixture
def members(app, make_learner):
    """A circle of three: the viewer, a sharing peer and a peer who does not share activities."""
    people = {
        "viewer": make_learner("viewer", display_name="Vera Viewer"),
        "peer": make_learner("peer", display_name="Pat Peer"),
        "quiet": make_learner("quiet", display_name="Quiet Quinn", share_activities=False),
    }
    with app.app_context():
        for learner in people.values():
            award(learner.id, "comment_posted", event_key=f"setup:{learner.id}",
                  occurred_at=utcnow() - timedelta(days=8))
        assign_circles(platform_week(utcnow()))
        db.session.remove()
    return {name: learner.id for name, learner in people.items()}


def _award(learner_id: int, activity: str, seconds_ago: float, **kw):
    """An award this week, ``seconds_ago`` seconds before now (newest first in the panel)."""
    return award(learner_id, activity, event_key=f"act:{next(_keys)}",
                 occurred_at=utcnow() - timedelta(seconds=seconds_ago), **kw)


def _activities(viewer_id: int):
    panel = circle_panel(viewer_id)
    assert panel is not None
    return [(a.who, a.is_you, a.activity_type, a.count, a.topic) for a in panel.activities]


def test_groups_count_topic_and_newest_first(app, members):
    with app.app_context():
        _award(members["peer"], "quiz_completed", 50, metadata={"topic": "Prompt  Engineering"})
        _award(members["peer"], "quiz_completed", 40, metadata={"topic": "Prompt  Engineering"})
        _award(members["peer"], "quiz_completed", 30, metadata={"topic": "Prompt  Engineering"})
        _award(members["peer"], "project_created", 20, metadata={"topic": "Cats"})
        _award(members["peer"], "project_created", 25, metadata={"topic": "Dogs"})
        _award(members["viewer"], "comment_posted", 10)
        _award(members["viewer"], "feedback_given", 5, metadata={"topic": 42})  # not a string: no topic
        _award(members["quiet"], "quiz_completed", 1, metadata={"topic": "Secret"})
        assert _activities(members["viewer"]) == [
            (None, True, "feedback_given", 1, None),
            (None, True, "comment_posted", 1, None),
            ("Pat Peer", False, "project_created", 2, None),       # two topics: none named
            ("Pat Peer", False, "quiz_completed", 3, "Prompt Engineering"),  # one topic, whitespace folded
        ]


def test_a_topic_on_some_entries_only_is_not_named(app, members):
    with app.app_context():
        _award(members["peer"], "quiz_completed", 20, metadata={"topic": "Cats"})
        _award(members["peer"], "quiz_completed", 10)
        assert _activities(members["viewer"]) == [("Pat Peer", False, "quiz_completed", 2, None)]


def test_capped_zero_and_hidden_types_are_left_out(app, members):
    with app.app_context():
        _award(members["peer"], "daily_login", 30)                           # a hidden type
        _award(members["peer"], "reaction_given", 20, points=0)               # no points
        _award(members["peer"], "comment_posted", 10, metadata={"topic": "T"})
        assert _activities(members["viewer"]) == [("Pat Peer", False, "comment_posted", 1, "T")]


def test_at_most_the_newest_groups_are_shown(app, members):
    types = ["quiz_completed", "project_created", "project_updated", "project_published", "comment_posted",
             "feedback_given", "event_attended", "scavenger_hunt_completed", "battle_participated", "battle_won"]
    assert len(types) > ACTIVITY_LIMIT
    with app.app_context():
        for n, activity in enumerate(types):
            _award(members["peer"], activity, 100 - n)  # later in the list = newer
        shown = [a[2] for a in _activities(members["viewer"])]
    assert shown == list(reversed(types))[:ACTIVITY_LIMIT]
