"""Circle-goal settlement is an explicit step of the award path (§6.1), not a web teardown.

The app here is built from ``create_app``'s init steps *without* ``init_blueprints``/``init_web`` — as a
worker that only has the service layer would be — and a circle reaches its goal through ``award()`` alone.
"""
from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import func, select

from thrive import init_cli, init_extensions, init_services
from thrive.extensions import db
from thrive.models import Circle, LedgerEntry
from thrive.services.accounts.learners import create_learner
from thrive.services.points.award import AwardRequest, award, award_many
from thrive.services.weekly.circles import assign_circles
from thrive.timeutil import platform_week, utcnow


def _service_only_app(app_config: dict) -> Flask:
    app = Flask("thrive_service_only")
    app.config.from_object("thrive.config.TestConfig")
    app.config.update(app_config, THRIVE_CIRCLE_TARGET_SIZE=3, THRIVE_CIRCLE_MIN_SIZE=1,
                      THRIVE_CIRCLE_GOAL_PER_MEMBER=30)
    init_extensions(app)
    init_services(app)
    init_cli(app)
    assert not app.blueprints
    assert [f.__name__ for f in app.teardown_appcontext_funcs] == ["_teardown_session"]   # Flask-SQLAlchemy only
    return app


def _bonuses() -> list[tuple[int, int]]:
    return sorted(db.session.execute(select(LedgerEntry.learner_id, LedgerEntry.points)
                                     .where(LedgerEntry.activity_type == "circle_goal_completed")).all())


def test_awards_without_any_blueprint_pay_every_contributor_once(app, app_config):
    service_app = _service_only_app(app_config)
    week = platform_week(utcnow())
    with service_app.app_context():
        people = [create_learner(f"solo{i}", f"Solo {i}").id for i in range(3)]
        for p in people:   # eligible: active 8 days ago
            award(p, "comment_posted", event_key=f"warmup:{p}", occurred_at=utcnow() - timedelta(days=8))
        assign_circles(week)
        circle_id = db.session.scalar(select(Circle.id).where(Circle.week == week))
        a, b, c = people
        award(a, "quiz_completed", event_key="s1", metadata={"difficulty": "advanced"})   # 50 of 90
        assert _bonuses() == []
        # the goal-reaching award goes through a batch, as the importers and the batch API do
        [result] = award_many([AwardRequest(b, "quiz_completed", "s2", metadata={"difficulty": "advanced"})])
        assert result.points_awarded == 50
        assert db.session.get(Circle, circle_id).goal_completed_at is not None
        assert _bonuses() == [(a, 50), (b, 50)]          # paid at once, inside the service call
        award(a, "comment_posted", event_key="s3")       # later awards pay nobody twice
        award(c, "comment_posted", event_key="s4")       # a late contributor is paid too, once
        assert _bonuses() == [(a, 50), (b, 50), (c, 50)]
        assert db.session.scalar(select(func.count(LedgerEntry.id)).where(
            LedgerEntry.activity_type == "circle_goal_completed")) == 3
        db.session.remove()
        db.engine.dispose()
