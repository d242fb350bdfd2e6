"""No peer amount can be read off by differencing (issue 10 defect 2, §1.3).

A circle of five shares a week; one peer is awarded a distinctive amount. Every
learner page and HTMX fragment is read by another member before and after;
no number on any of them moves by that amount, and the amount itself never
appears.
"""
from __future__ import annotations

import re
from datetime import timedelta

from thrive.extensions import db
from thrive.services.points.award import award
from thrive.services.weekly.circles import assign_circles
from thrive.timeutil import platform_week, utcnow

DISTINCTIVE = 137
PATHS = ["/", "/community", "/community/feed", "/community/following", "/community/stats", "/community/discover",
         "/journey", "/notifications", "/notifications/bell", "/panels/actions", "/panels/circle", "/panels/goals",
         "/panels/stats", "/panels/status", "/settings", "/u/peer", "/u/peer/followers", "/u/peer/following"]
NUMBER = re.compile(r"\d[\d,]*")


def _numbers(html: str) -> list[int]:
    # drop times and CSRF tokens: only visible text between tags, without <time> and attributes
    visible = re.sub(r"<time[^>]*>.*?</time>", " ", html, flags=re.S)
    visible = re.sub(r"<[^>]+>", " ", visible)
    return [int(n.replace(",", "")) for n in NUMBER.findall(visible)]


def _snapshot(client) -> dict[tuple[str, bool], list[int]]:
    out = {}
    for path in PATHS:
        for htmx in (False, True):
            response = client.get(path, headers={"HX-Request": "true"} if htmx else {})
            assert response.status_code in (200, 302), (path, response.status_code)
            out[(path, htmx)] = _numbers(response.get_data(as_text=True))
    return out


def test_a_peers_award_cannot_be_read_off_any_page(app, client, auth, make_learner):
    week = platform_week(utcnow())
    before = utcnow() - timedelta(days=8)
    people = [make_learner("learner", display_name="Lea")] + [make_learner(n) for n in ("peer", "pal2", "pal3", "pal4")]
    with app.app_context():
        for i, person in enumerate(people):
            award(person.id, "comment_posted", event_key=f"setup:{i}", occurred_at=before)
        assign_circles(week)
        for i, person in enumerate(people):  # this week: 5 contributors
            award(person.id, "special_event", event_key=f"week:{i}", points=100)
        db.session.remove()
    auth.login()
    client.get("/")  # the daily visit settles before the first reading
    first = _snapshot(client)
    with app.app_context():
        award(people[1].id, "special_event", event_key="distinctive", points=DISTINCTIVE)
        db.session.remove()
    second = _snapshot(client)
    for key, numbers in second.items():
        assert DISTINCTIVE not in numbers or DISTINCTIVE in first[key], key
        old = first[key]
        if len(old) == len(numbers):
            deltas = {b - a for a, b in zip(old, numbers)}
            assert DISTINCTIVE not in deltas, (key, old, numbers)
    circle = second[("/panels/circle", True)]
    assert any(n % 50 == 0 and n >= 500 for n in circle)  # the aggregate is there, rounded to 50
