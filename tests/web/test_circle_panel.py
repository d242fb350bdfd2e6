"""The circle panel on "Your Thrive Circle" (§6.1, §1.3, §8.4): no peer points, name order, privacy, HTMX."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from thrive.extensions import db
from thrive.models import CircleMembership
from thrive.services.points.award import award
from thrive.services.weekly.circles import assign_circles
from thrive.timeutil import platform_week, shift_week, utcnow, week_start_instant


def _award(app, learner_id, activity, key, **kw):
    with app.app_context():
        award(learner_id, activity, event_key=key, **kw)
        db.session.remove()


@pytest.fixture
def circle(app, client, auth, make_learner):
    """A circle of six: the signed-in viewer plus five peers with distinctive totals and privacy settings."""
    week = platform_week(utcnow())
    eight_days_ago = utcnow() - timedelta(days=8)
    people = {
        "viewer": make_learner("learner", display_name="Lea Learner"),
        "adam": make_learner("adam", display_name="Adam"),
        "zoe": make_learner("zoe", display_name="zoe Zimmer"),
        "mia": make_learner("mia", display_name="mia"),
        "secret": make_learner("secret", display_name="Secret Sam", share_profile=False),
        "quiet": make_learner("quiet", display_name="Quiet Quinn", share_activities=False),
    }
    # distinctive totals earned before this week (they make everyone eligible)
    _award(app, people["adam"].id, "admin_adjustment", "setup:adam", points=7777, description="setup",
           occurred_at=eight_days_ago)
    _award(app, people["zoe"].id, "admin_adjustment", "setup:zoe", points=4321, description="setup",
           occurred_at=eight_days_ago)
    for key in ("viewer", "mia", "secret", "quiet"):
        _award(app, people[key].id, "comment_posted", f"setup:{key}", occurred_at=eight_days_ago)
    with app.app_context():
        assign_circles(week)
        db.session.remove()
    # this week's points: distinctive per-member amounts that must never be shown
    _award(app, people["mia"].id, "special_event", "week:mia", points=617)
    _award(app, people["quiet"].id, "special_event", "week:quiet", points=389)
    _award(app, people["zoe"].id, "quiz_completed", "week:zoe", metadata={"topic": "Prompt Engineering"})
    _award(app, people["secret"].id, "project_created", "week:secret")
    auth.login()
    client.get("/")  # first view of the day: daily_login (+5), then the viewer's goal bonus settles
    return week, people


def _section(html: str, heading_id: str) -> str:
    start = html.index(f'id="{heading_id}"')
    end = html.find("</section>", start)
    return html[start:end]


def test_panel_never_shows_member_points(app, client, circle):
    week, people = circle
    html = client.get("/panels/circle", headers={"HX-Request": "true"}).get_data(as_text=True)
    for amount in ("7,777", "7777", "4,321", "4321", "617", "389"):
        assert amount not in html, f"a member's points ({amount}) leaked into the circle panel"
    with app.app_context():
        together = db.session.scalar(select(func.sum(CircleMembership.points))
                                     .where(CircleMembership.week == week))
    assert together > 1000
    # the aggregate is fine (§1.3), rounded down to 50 points so no award can be read off by differencing
    assert f"About {together // 50 * 50:,} of 600 points together this week" in html
    assert f"{together:,}" not in html
    assert 'id="circle-goal-progress"' in html and 'value="100"' in html
    assert "You reached this week&#39;s goal together!" in html or "You reached this week's goal together!" in html


def test_members_ordered_by_shown_name_with_privacy(client, circle):
    html = client.get("/panels/circle", headers={"HX-Request": "true"}).get_data(as_text=True)
    members = _section(html, "circle-members-heading")
    names = re.findall(r'<span class="member-name"[^>]*>([^<]+)', members)
    # issue 11: private members last
    assert [n.strip() for n in names] == ["Adam", "Lea Learner", "mia", "Quiet Quinn", "zoe Zimmer", "A learner"]
    assert "Secret Sam" not in html, "a learner who does not share their profile is 'A learner'"
    assert "(you)" in members
    assert members.count('class="avatar avatar-sm"') == 6
    # issue 11: the circle's tier is shown once; a member's own tier only where it differs
    assert 0 < members.count("tier-chip") < 6
    assert "Phoenix" in members  # Adam and zoe reached Phoenix; badges are fine, amounts are not
    assert "streak-flame" in members  # active today → a flame


def test_activity_is_shared_only_and_without_amounts(client, circle):
    html = client.get("/panels/circle", headers={"HX-Request": "true"}).get_data(as_text=True)
    activity = _section(html, "circle-activity-heading")
    assert "zoe Zimmer</strong> completed a quiz on Prompt Engineering" in activity
    assert "mia</strong> took part in a special event" in activity
    assert "showed up" not in activity, "daily visits are not shown, as in the community feed"
    assert "A learner</strong> created a project" in activity
    assert "Quiet Quinn" not in activity, "no activity from a learner who does not share activities"
    assert "points" not in activity and not re.search(r"\+\s*\d", activity)


def test_fragment_vs_page_and_home(client, circle):
    week, _ = circle
    fragment = client.get("/panels/circle", headers={"HX-Request": "true"})
    body = fragment.get_data(as_text=True)
    assert body.lstrip().startswith('<article id="circle-panel"') and "<html" not in body
    assert 'hx-trigger="every 60s"' in body and 'hx-get="/panels/circle"' in body
    assert "HX-Request" in fragment.headers["Vary"]
    page = client.get("/panels/circle")
    page_html = page.get_data(as_text=True)
    assert "<html" in page_html and 'id="circle-panel"' in page_html and "HX-Request" in page.headers["Vary"]
    home = client.get("/").get_data(as_text=True)
    assert 'id="circle-panel"' in home and "Ember Circle A" in home
    assert home.count('id="circle-panel"') == 1


def test_countdown_to_the_weekly_reset(client, circle):
    week, _ = circle
    html = client.get("/").get_data(as_text=True)
    reset = week_start_instant(shift_week(week, 1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    m = re.search(r'<time datetime="([^"]+)" data-countdown>([^<]+)</time>', html)
    assert m and m.group(1) == reset
    assert re.fullmatch(r"\d+ (days?|hours?|minutes?)", m.group(2))  # Babel's format_timedelta (issue 11)
    # CSP-safe: the countdown script is a static file, no inline script
    assert re.search(r'<script src="/static/js/countdown.js" defer></script>', html)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    js = client.get("/static/js/countdown.js")
    assert js.status_code == 200 and b"data-countdown" in js.data
    js.close()


def test_learner_without_a_circle_sees_a_friendly_message(client, auth, make_learner):
    make_learner("learner", display_name="Lea Learner")
    auth.login()
    html = client.get("/panels/circle", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "not in a circle this week yet" in html
    assert "data-countdown" in html and 'hx-trigger="every 60s"' in html


def test_panel_requires_sign_in(client):
    response = client.get("/panels/circle")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_progress_hidden_under_three_contributors_without_an_empty_bar(app, client, auth, make_learner):
    """Under 3 contributors the panel shows no bar and no figure, only the goal and a neutral note (§1.3)."""
    week = platform_week(utcnow())
    before = utcnow() - timedelta(days=8)
    people = {key: make_learner(key, display_name=name)
              for key, name in (("learner", "Lea Learner"), ("adam", "Adam"), ("mia", "mia"), ("noor", "Noor"))}
    for key, person in people.items():
        _award(app, person.id, "comment_posted", f"setup:{key}", occurred_at=before)
    with app.app_context():
        assign_circles(week)
        db.session.remove()
    _award(app, people["mia"].id, "special_event", "week:mia", points=117)  # well short of the goal
    auth.login()
    client.get("/")  # the viewer's daily visit: the second contributor this week
    html = client.get("/panels/circle", headers={"HX-Request": "true"}).get_data(as_text=True)
    goal = _section(html, "circle-goal-heading")
    assert "Progress appears once 3 members have taken part." in goal
    assert "<progress" not in goal and "%" not in goal, "no bar (an empty one reads as 'no progress')"
    assert "117" not in html and "122" not in html and "About" not in goal, "no figure revealing one member's points"
    assert re.search(r"Goal: [\d,]+ points together this week", goal)

    _award(app, people["adam"].id, "quiz_completed", "week:adam")  # the third contributor
    goal = _section(client.get("/panels/circle", headers={"HX-Request": "true"}).get_data(as_text=True),
                    "circle-goal-heading")
    assert "Progress appears once" not in goal
    assert '<progress id="circle-goal-progress"' in goal and "%" in goal


def test_member_grid_and_activity_escape_names_and_follow_the_locale(app, client, circle, make_learner):
    """The grid and the activity list are built in Python (web/circles/markup.py): names escaped, the
    streak worded in the reader's language even after another language's page was drawn (cached texts)."""
    from thrive.models import Learner

    _, people = circle
    with app.app_context():
        db.session.get(Learner, people["mia"].id).display_name = "<b>mia</b> & co"
        db.session.commit()
    english = client.get("/panels/circle", headers={"HX-Request": "true"}).get_data(as_text=True)
    members, activity = _section(english, "circle-members-heading"), _section(english, "circle-activity-heading")
    assert "<b>mia</b>" not in english
    assert "&lt;b&gt;mia&lt;/b&gt; &amp; co" in members and "&lt;b&gt;mia&lt;/b&gt; &amp; co</strong>" in activity
    assert re.search(r'title="1-day streak">.*?streak of 1 day<', members)
    with app.app_context():
        db.session.get(Learner, people["viewer"].id).locale = "es"
        db.session.commit()
    spanish = _section(client.get("/panels/circle", headers={"HX-Request": "true"}).get_data(as_text=True),
                       "circle-members-heading")
    assert "racha de 1 día" in spanish and "streak of 1 day" not in spanish
    assert "(tú)" in spanish or "(you)" not in spanish
