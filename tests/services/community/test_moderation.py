"""Feed moderation (§8.1, §11): reports, hiding everywhere, no cheers on hidden items, points stay, history."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.community_support import ago, give
from tests.services.admin.economy_support import audit_actions, staff
from thrive.extensions import db
from thrive.models import FeedReport, LearnerState, Notification
from thrive.services.community import cheers as community
from thrive.services.community import feed, moderation
from thrive.services.errors import Conflict, NotFound, ValidationError
from thrive.services.weekly.circles import assign_circles, circle_panel
from thrive.timeutil import platform_week, utcnow


def ids(fp) -> set[tuple[str, int]]:
    return {(i.kind, i.id) for i in fp.items}


def everywhere(viewer_id: int, learner_id: int) -> set[tuple[str, int]]:
    """Every feed item visible to ``viewer_id`` in the everyone, following and profile feeds."""
    db.session.commit()
    from thrive.services.community.follows import follow

    try:
        follow(viewer_id, learner_id)
    except Conflict:
        pass
    out = set()
    for scope in ("everyone", "following", "profile"):
        out |= ids(feed.feed_page(viewer_id, scope=scope, learner_id=learner_id))
    return out


@pytest.fixture
def posted(app, app_ctx, make_learner):
    """A viewer, a poster with a quiz and a tier-up in the feed, a moderator."""
    viewer, poster = make_learner("viewer"), make_learner("poster", display_name="Poster")
    mod = staff(make_learner, "mod", role="moderator")
    quiz = give(app, poster.id, "quiz_completed", metadata={"topic": "DDD"}, at=ago(minutes=30))
    big = give(app, poster.id, "special_event", points=300, at=ago(minutes=20))  # reaches Spark
    db.session.commit()
    return viewer, poster, mod, quiz, big


def test_report_rules(posted):
    viewer, poster, _mod, quiz, _big = posted
    report = moderation.report_item(viewer.id, "entry", quiz.event_id, "spam", "buy my course")
    assert (report.subject_id, report.reason) == (poster.id, "spam")
    with pytest.raises(Conflict):
        moderation.report_item(viewer.id, "entry", quiz.event_id, "offensive")
    with pytest.raises(ValidationError) as caught:
        moderation.report_item(viewer.id, "entry", quiz.event_id, "boring")
    assert caught.value.code == "invalid_reason"
    with pytest.raises(ValidationError) as caught:
        moderation.report_item(poster.id, "entry", quiz.event_id, "spam")
    assert caught.value.code == "cannot_report_self"
    with pytest.raises(ValidationError):
        moderation.report_item(viewer.id, "entry", quiz.event_id, "other", "x" * 501)
    with pytest.raises(NotFound):
        moderation.report_item(viewer.id, "entry", 999999, "spam")
    with pytest.raises(ValidationError):
        moderation.report_item(viewer.id, "post", quiz.event_id, "spam")
    queue = moderation.moderation_queue()
    assert [(q.target_kind, q.target_id, q.reports, q.reasons) for q in queue] == [
        ("entry", quiz.event_id, 1, {"spam": 1})]
    subject = queue[0].subject
    assert (subject.kind, subject.activity_type, subject.topic) == ("entry", "quiz_completed", "DDD")
    assert queue[0].details == ["buy my course"]
    assert audit_actions() == []  # a learner's report is not a staff action


def test_hidden_item_is_absent_everywhere_refuses_cheers_and_keeps_points(posted):
    viewer, poster, mod, quiz, big = posted
    moderation.report_item(viewer.id, "entry", quiz.event_id, "offensive")
    db.session.commit()
    total = db.session.get(LearnerState, poster.id).total_points
    assert ("entry", quiz.event_id) in everywhere(viewer.id, poster.id)

    result = moderation.hide_item(mod, "entry", quiz.event_id, note="rude topic")
    assert result.reports_resolved == 1
    visible = everywhere(viewer.id, poster.id)
    assert ("entry", quiz.event_id) not in visible
    assert ("entry", big.event_id) in visible  # other items stay
    with pytest.raises(NotFound):
        community.cheer(viewer.id, "entry", quiz.event_id)
    db.session.commit()
    assert db.session.get(LearnerState, poster.id).total_points == total  # points stay
    notes = db.session.scalars(select(Notification).where(Notification.learner_id == poster.id,
                                                          Notification.type == moderation.NOTICE_TYPE)).all()
    assert len(notes) == 1 and "points are not affected" in notes[0].body
    assert "rude" not in notes[0].title + (notes[0].body or "")  # neutral: no reason, no reporter
    assert moderation.moderation_queue() == []
    with pytest.raises(Conflict):
        moderation.hide_item(mod, "entry", quiz.event_id)

    moderation.unhide_item(mod, "entry", quiz.event_id)
    assert ("entry", quiz.event_id) in everywhere(viewer.id, poster.id)
    assert community.cheer(viewer.id, "entry", quiz.event_id).cheers == 1
    with pytest.raises(NotFound):
        moderation.unhide_item(mod, "entry", quiz.event_id)
    assert audit_actions() == ["feed.hide", "feed.unhide"]


def test_hidden_tier_up_and_hide_all(posted):
    viewer, poster, mod, quiz, big = posted
    tier_up = next(i for i in feed.feed_page(viewer.id).items if i.kind == "tier_up")
    moderation.hide_item(mod, "tier_up", tier_up.id)
    assert ("tier_up", tier_up.id) not in everywhere(viewer.id, poster.id)
    with pytest.raises(NotFound):
        community.cheer(viewer.id, "tier_up", tier_up.id)
    moderation.report_item(viewer.id, "entry", big.event_id, "spam")
    result = moderation.hide_all(mod, poster.id, note="spam account")
    assert result.items == 2 and result.reports_resolved == 1  # the quiz and the special event
    assert not any(i for i in everywhere(viewer.id, poster.id))
    history = moderation.history(poster.id)
    assert [a.action for a in history.actions] == ["hide_all", "hide"]
    assert history.hidden_now == 3 and history.reports_by_reason == {"spam": 1} and history.open_reports == 0
    assert audit_actions() == ["feed.hide", "feed.hide_all"]


def test_dismiss(posted):
    viewer, _poster, mod, quiz, _big = posted
    moderation.report_item(viewer.id, "entry", quiz.event_id, "other")
    assert moderation.dismiss_reports(mod, "entry", quiz.event_id).reports_resolved == 1
    assert moderation.moderation_queue() == []
    with pytest.raises(NotFound):
        moderation.dismiss_reports(mod, "entry", quiz.event_id)
    db.session.commit()
    assert db.session.scalar(select(func.count(FeedReport.id)).where(FeedReport.resolution == "dismissed")) == 1
    assert audit_actions() == ["feed.dismiss"]


def test_hidden_item_leaves_the_circle_panel(app, app_ctx, make_learner):
    viewer, peer = make_learner("viewer"), make_learner("peer")
    mod = staff(make_learner, "mod", role="moderator")
    for person in (viewer, peer):
        give(app, person.id, "comment_posted", at=utcnow() - timedelta(days=8))
    assign_circles(platform_week(utcnow()))
    db.session.commit()
    quiz = give(app, peer.id, "quiz_completed", metadata={"topic": "Cats"}, at=ago(minutes=5))
    db.session.commit()
    assert any(a.topic == "Cats" for a in circle_panel(viewer.id).activities)
    moderation.hide_item(mod, "entry", quiz.event_id)
    db.session.commit()
    assert not any(a.topic == "Cats" for a in circle_panel(viewer.id).activities)
