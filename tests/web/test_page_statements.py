"""SQL statements per learner page (issue 12): a count pinned per page, so a regression is caught.

A signed-in learner with a circle, weekly goals, a quest in progress, follows,
notifications and a busy feed, with the per-process caches on as in
production (rule registry, community stats, the feed window): after a warm-up
request every later view of the home page and of the community page runs
exactly the statements counted here. A time is not asserted (benchmarks do
that, docs/benchmarks-pages.md); a count does not depend on the machine.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event

from thrive.extensions import db
from thrive.models import Follow, Quest
from thrive.services.points.award import award
from thrive.services.quests.progress import start_quest
from thrive.services.weekly.circles import assign_circles
from thrive.timeutil import platform_week, utcnow

#: Statements per request after the warm-up (SQLite's explicit BEGIN not counted). Home: the learner with
#: the header's unread count and pending celebration (one statement) and topics, onboarding, recommendations
#: (usage; the open goals come from the goals panel's read), circle (members with points together,
#: activity), goals panel; the quests panel reads nothing while no quest is published — 30 before issue 12,
#: 10 before its fifth session.
#: Community: the learner with the header's counts, feed (circle peers, cheers + hidden, current learners),
#: discover (windows, the top-up a population this small needs, the cards' and the viewer's topics; the id
#: range is kept 60 s) — 17 before, 10 before issue 12's fourth session, 8 before its fifth.
HOME_STATEMENTS = 7
COMMUNITY_STATEMENTS = 7


@pytest.fixture
def app_config(database_url) -> dict:
    return {"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "test-secret-key",
            "THRIVE_REGISTRY_CACHE_SECONDS": 300, "THRIVE_FEED_CACHE_SECONDS": 300,
            "THRIVE_COMMUNITY_STATS_CACHE_SECONDS": 300}


def _award(app, learner_id, activity, key, **kw):
    with app.app_context():
        award(learner_id, activity, event_key=key, **kw)
        db.session.remove()


@pytest.fixture
def busy_learner(app, client, auth, make_learner):
    viewer = make_learner("learner", display_name="Lea Learner", timezone="Europe/Madrid")
    peers = [make_learner(f"peer{i}", display_name=f"Peer {i}", share_profile=i % 3 != 0) for i in range(8)]
    before = utcnow() - timedelta(days=8)
    for person in [viewer, *peers]:
        _award(app, person.id, "comment_posted", f"setup:{person.id}", occurred_at=before)
    with app.app_context():
        assign_circles(platform_week(utcnow()))
        for peer in peers[:4]:
            db.session.add(Follow(follower_id=viewer.id, followed_id=peer.id))
        db.session.commit()
        quest = db.session.query(Quest).filter(Quest.status == "published").first()
        if quest is not None:
            try:
                start_quest(viewer.id, quest.id)
            except Exception:  # noqa: BLE001 — a locked quest: the board still reads the runs
                pass
        db.session.remove()
    for n, peer in enumerate(peers):
        _award(app, peer.id, "quiz_completed", f"week:{peer.id}", metadata={"topic": "Ethics"})
        _award(app, peer.id, "special_event", f"big:{peer.id}", points=300 + n)  # tier-ups, notifications
    _award(app, viewer.id, "project_created", "week:viewer")
    assert auth.login().status_code == 302
    return viewer


def _statements(app, client, path: str) -> int:
    with app.app_context():
        engine = db.engine
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(("BEGIN", "PRAGMA")):  # SQLite's explicit BEGIN
            seen.append(statement)

    assert client.get(path).status_code == 200  # warm-up: daily visit, lazy goals, caches filled
    event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get(path)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200
    # a GET reads outside a transaction on PostgreSQL (thrive/web/transactions.py): nothing to end, so no
    # "did this transaction write?" before a COMMIT
    assert not [s for s in seen if "txid_current_if_assigned" in s]
    return len(seen)


def test_home_page_statements(app, client, busy_learner):
    assert _statements(app, client, "/") == HOME_STATEMENTS


def test_community_page_statements(app, client, busy_learner):
    assert _statements(app, client, "/community") == COMMUNITY_STATEMENTS


#: Journey: the learner with the header's counts, totals and chart (one query), the ledger page — 5 before
#: issue 12's fifth session.
JOURNEY_STATEMENTS = 3


def test_journey_page_statements(app, client, busy_learner):
    assert _statements(app, client, "/journey") == JOURNEY_STATEMENTS


def test_header_counts_read_with_the_learner_are_read_again_after_a_commit(app, client, busy_learner):
    """The header's counts come with the session's learner unless this request committed since (issue 12)."""
    from flask import g

    from thrive.web.hooks import COMMITTED, HEADER_COUNTS, HeaderInfo

    with app.test_request_context("/"):
        learner = db.session.get(type(busy_learner), busy_learner.id)
        g.setdefault(HEADER_COUNTS, (41, True))
        prefetched = HeaderInfo(learner)
        assert (prefetched.unread, prefetched.pending) == (41, True)  # no commit since: used as read
        g.setdefault(HEADER_COUNTS, (41, True))
        db.session.commit()  # any commit in the request: the prefetched counts may be stale
        assert g.get(COMMITTED) is True
        fresh = HeaderInfo(learner)
        from thrive.services.notifications.inbox import header_counts

        assert (fresh.unread, fresh.pending) == header_counts(busy_learner.id) != (41, True)
        db.session.remove()


def test_the_bell_shows_the_unread_count_read_with_the_learner(app, client, busy_learner):
    from thrive.services.notifications.inbox import header_counts

    with app.app_context():
        unread, _pending = header_counts(busy_learner.id)
        db.session.remove()
    assert unread > 0
    page = client.get("/journey").get_data(as_text=True)
    assert f'aria-label="Notifications, {unread} unread"' in page
    assert f'<span class="bell-count" aria-hidden="true">{unread}</span>' in page
