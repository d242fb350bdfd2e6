"""The admin dashboard (§11): figures equal direct SQL counts; cells under 5 learners are suppressed."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from tests.community_support import give
from thrive.extensions import db
from thrive.services.admin import dashboard
from thrive.timeutil import platform_week, shift_week, utcnow, week_start_instant


@pytest.fixture
def community(app, make_learner):
    """7 learners active this week (6 quizzes, one also a 300-point special event), 3 active last week only,
    and an admin who is not a learner but has old awards."""
    now = utcnow()
    this_week = platform_week(now)
    last_week_at = week_start_instant(shift_week(this_week, -1)) + timedelta(hours=12)
    at = max(week_start_instant(this_week), now - timedelta(minutes=30))
    current = [make_learner(f"now{i}") for i in range(7)]
    for person in current[:6]:
        give(app, person.id, "quiz_completed", at=at)
    give(app, current[6].id, "special_event", points=300, at=at)
    before = [make_learner(f"before{i}") for i in range(3)]
    for person in before:
        give(app, person.id, "project_created", at=last_week_at)
    boss = make_learner("boss")
    give(app, boss.id, "quiz_completed", at=at)
    with app.app_context():
        db.session.execute(text("UPDATE learners SET staff_role = 'admin', is_learner = :f WHERE username = 'boss'"),
                           {"f": False})
        db.session.commit()
        db.session.remove()
    return this_week


def sql_one(query: str, **params):
    return db.session.execute(text(query), params).one()


def test_weekly_figures_equal_direct_sql_and_small_weeks_are_suppressed(app, app_ctx, community):
    d = dashboard.compute()
    assert d.week == community and len(d.weeks) == 12
    active, points = sql_one(
        "SELECT COUNT(DISTINCT e.learner_id), SUM(e.points) FROM ledger_entries e"
        " JOIN learners l ON l.id = e.learner_id WHERE e.week = :w AND l.is_learner", w=community)
    assert (d.current.active, d.current.points) == (active, points) == (7, 6 * 20 + 300)
    assert d.current.points_per_active == round(points / active, 1)
    assert d.current.tier_ups == 1
    # Last week had 3 active learners: every cell of that week is suppressed.
    assert (d.previous.active, d.previous.points, d.previous.points_per_active, d.previous.tier_ups) == (
        None, None, None, None)
    assert all(w.active is None for w in d.weeks[:-1])


def test_distributions_and_sources_suppress_cells_under_five(app, app_ctx, community):
    d = dashboard.compute()
    tiers = {s.key: s.learners for s in d.tiers}
    (embers,) = sql_one("SELECT COUNT(*) FROM learner_states s JOIN learners l ON l.id = s.learner_id"
                        " WHERE s.tier_key = 'ember' AND l.is_learner")
    assert tiers["ember"] == embers == 9
    assert tiers["spark"] is None  # one learner
    sources = {s.activity_type: s for s in d.sources}
    quiz = sources["quiz_completed"]
    (events, pts) = sql_one("SELECT COUNT(*), SUM(e.points) FROM ledger_entries e JOIN learners l"
                            " ON l.id = e.learner_id WHERE e.week = :w AND e.activity_type = 'quiz_completed'"
                            " AND l.is_learner", w=community)
    assert (quiz.events, quiz.points, quiz.cap_rate) == (events, pts, 0.0) == (6, 120, 0.0)
    assert sources["special_event"].events is None  # one learner
    assert sources["project_created"].prev_events is None  # three learners last week
    streaks, base = dashboard.streak_survival()
    assert base == 10 and [s.learners for s in streaks] == [None, None, None]  # nobody reached 7 days


def test_small_communities_show_no_streak_base(app, app_ctx, make_learner):
    person = make_learner("solo")
    give(app, person.id, "quiz_completed")
    streaks, base = dashboard.streak_survival()
    assert base is None and all(s.learners is None for s in streaks)
    d = dashboard.compute()
    assert d.current.active is None and all(s.learners is None for s in d.tiers)


def test_dashboard_page_and_csv_show_suppressed_cells_as_blank(app, client, auth, community):
    auth.login("boss")
    html = client.get("/admin/").get_data(as_text=True)
    assert "fewer than 5 learners" in html
    rows = client.get("/admin/dashboard/weeks.csv").get_data(as_text=True).strip().splitlines()
    assert rows[0].startswith("week,active_learners,points,points_per_active_learner")
    assert rows[-1].startswith(f"{community},7,420,60.0,1,")
    assert rows[-2].startswith(f"{shift_week(community, -1)},,,,,")
    for table in dashboard_tables():
        response = client.get(f"/admin/dashboard/{table}.csv")
        assert response.status_code == 200 and response.mimetype == "text/csv", table
    assert client.get("/admin/dashboard/people.csv").status_code == 404


def dashboard_tables():
    from thrive.web.admin.dashboard import TABLES

    return TABLES


def test_the_dashboard_is_cached_for_the_configured_time(app, app_ctx, community, make_learner):
    app.config["THRIVE_ADMIN_DASHBOARD_CACHE_SECONDS"] = 60
    dashboard.invalidate()
    try:
        first = dashboard.dashboard()
        give(app, make_learner("late").id, "quiz_completed")
        assert dashboard.dashboard() is first
        dashboard.invalidate()
        db.session.rollback()  # end this test's read snapshot
        assert dashboard.dashboard().current.active == 8
    finally:
        dashboard.invalidate()


def test_distribution_a_week_ago_counts_learners_by_their_last_tier_up_before_then(app, app_ctx, make_learner):
    old = utcnow() - timedelta(days=10)
    people = [make_learner(f"p{i:02d}") for i in range(12)]
    for person in people[:6]:
        give(app, person.id, "special_event", points=300, at=old)  # Spark 10 days ago
    for person in people[6:]:
        give(app, person.id, "quiz_completed", at=old)  # Ember 10 days ago …
        give(app, person.id, "special_event", points=300)  # … Spark today
    d = dashboard.compute()
    tiers = {s.key: (s.learners, s.previous) for s in d.tiers}
    assert tiers["spark"] == (12, 6) and tiers["ember"] == (None, 6)


def test_the_scheduler_job_stores_a_snapshot_the_dashboard_reads(app, app_ctx, community, make_learner):
    from thrive import jobs
    from thrive.services.admin import dashboard_snapshot

    assert dashboard.dashboard().from_snapshot is False  # no snapshot yet: computed on the request
    outcome = jobs.run("admin_dashboard")
    assert outcome.status == "succeeded" and outcome.counts["week"] == community
    db.session.rollback()
    live = dashboard.compute()
    shown = dashboard.dashboard()
    assert shown.from_snapshot is True
    # The stored figures are the computed ones: suppression and previous-period figures unchanged.
    for name in ("week", "weeks", "tiers", "levels", "streaks", "streak_base", "sources", "circles",
                 "circles_previous"):
        assert getattr(shown, name) == getattr(live, name), name
    assert shown.current.active == 7 and shown.previous.active is None  # 3 learners last week: suppressed
    assert [run.job for run in shown.job_runs].count("admin_dashboard") == 0  # its own runs are not listed
    # A later award is not shown until the job refreshes the snapshot.
    give(app, make_learner("late").id, "quiz_completed")
    db.session.rollback()
    assert dashboard.dashboard().current.active == 7
    assert jobs.run("admin_dashboard", force=True).status == "succeeded"
    db.session.rollback()
    refreshed = dashboard.dashboard()
    assert refreshed.from_snapshot is True and refreshed.current.active == 8
    assert refreshed.computed_at > shown.computed_at
    # Too old (scheduler down): ignored, the page computes live.
    app.config["THRIVE_ADMIN_DASHBOARD_SNAPSHOT_MAX_AGE_SECONDS"] = 1
    try:
        later = refreshed.computed_at + timedelta(seconds=5)
        assert dashboard_snapshot.latest(now=later) is None
        assert dashboard_snapshot.latest(now=refreshed.computed_at) is not None
    finally:
        app.config.pop("THRIVE_ADMIN_DASHBOARD_SNAPSHOT_MAX_AGE_SECONDS")


def test_the_snapshot_job_period_is_the_five_minute_slot():
    from datetime import UTC, datetime

    from thrive import jobs

    job = jobs.JOBS["admin_dashboard"]
    assert job.latest_period(datetime(2026, 3, 9, 10, 14, 59, tzinfo=UTC)) == "2026-03-09T10:10Z"
    assert job.parse_period("2026-03-09T10:13+00:00") == "2026-03-09T10:10Z"
