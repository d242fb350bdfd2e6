"""My Journey page (§7): windows, HTMX fragments, chart data for Chart.js and the table fallback."""
from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from thrive.extensions import db
from thrive.services.points.award import award
from thrive.timeutil import utcnow


@pytest.fixture
def learner(app, client, auth, make_learner):
    person = make_learner("learner")
    auth.login()
    now = utcnow()
    with app.app_context():
        award(person.id, "quiz_completed", event_key="wj:q", occurred_at=now - timedelta(days=2))  # 20 learning
        award(person.id, "comment_posted", event_key="wj:c", occurred_at=now - timedelta(days=10))  # 5 community
        award(person.id, "project_created", event_key="wj:p", occurred_at=now - timedelta(days=40))  # 20 creation
        db.session.remove()
    return person


def _category_cells(html: str) -> dict[str, int]:
    return {k: int(v.replace(",", "")) for k, v in
            re.findall(r'<tr data-category="(\w+)">\s*<th[^>]*>.*?</th>\s*<td class="num">([-\d,]+)</td>', html, re.S)}


def test_page_default_window_and_tables(client, learner):
    response = client.get("/journey")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in html and "<h1>My Journey</h1>" in html
    assert re.search(r'href="/journey\?days=30"\s+hx-get="/journey\?days=30" hx-target="#journey" '
                     r'hx-swap="outerHTML"\s+aria-current="page"', html)
    cells = _category_cells(html)
    assert cells["learning"] == 20 and cells["community"] == 5 and cells["creation"] == 0
    assert cells["participation"] == 5  # daily_login of this visit
    assert re.search(r"data-total>30<", html)
    assert "vendor/chartjs/chart.umd.js" in html
    assert "Completed a quiz" in html  # ledger history row label


def test_chart_data_is_json_for_chartjs(client, learner):
    html = client.get("/journey?days=all").get_data(as_text=True)
    raw = re.search(r"data-chart-json='([^']*)'", html).group(1)  # single-quoted: tojson escapes
    data = json.loads(raw)
    donut = {c["key"]: c["points"] for c in data["categories"]}
    assert donut == {"learning": 20, "community": 5, "creation": 20, "participation": 5}
    assert data["series"]["bucket"] == "day" and len(data["series"]["labels"]) == 41
    assert sum(sum(d["points"]) for d in data["series"]["datasets"]) == 50
    assert 'data-chart="donut"' in html and 'data-chart="stacked"' in html and 'role="img"' in html


@pytest.mark.parametrize("days,learning,community", [("7", 20, 0), ("30", 20, 5), ("all", 20, 5)])
def test_windows(client, learner, days, learning, community):
    cells = _category_cells(client.get(f"/journey?days={days}").get_data(as_text=True))
    assert cells["learning"] == learning and cells["community"] == community


def test_fragments(client, learner):
    whole = client.get("/journey?days=7", headers={"HX-Request": "true", "HX-Target": "journey"})
    body = whole.get_data(as_text=True)
    assert "<html" not in body and body.lstrip().startswith('<div id="journey">') and 'id="ledger"' in body
    assert "data-chart-json='" in body and "<script" not in body  # htmx drops scripts: data rides in an attribute
    assert "HX-Request" in whole.headers["Vary"]
    ledger = client.get("/journey?days=7&page=1", headers={"HX-Request": "true", "HX-Target": "ledger"})
    body = ledger.get_data(as_text=True)
    assert body.lstrip().startswith('<section id="ledger"') and "data-chart-json" not in body


def test_ledger_paging(app, client, learner):
    with app.app_context():
        for i in range(30):
            award(learner.id, "reaction_given", event_key=f"wj:r{i}", occurred_at=utcnow() - timedelta(days=3 + i % 20))
        db.session.remove()
    first = client.get("/journey?days=all").get_data(as_text=True)
    assert 'href="/journey?days=all&amp;page=2"' in first
    second = client.get("/journey?days=all&page=2", headers={"HX-Request": "true", "HX-Target": "ledger"})
    body = second.get_data(as_text=True)
    assert "Page 2" in body and 'href="/journey?days=all&amp;page=1"' in body
    assert body.count("<tr>") == 1 + (34 - 25)  # header row + the rest of 34 entries


def test_nudge_and_empty_state(client, auth, make_learner):
    make_learner("newbie")
    auth.login("newbie")
    html = client.get("/journey?days=7").get_data(as_text=True)
    assert "Try something different" in html and "creation points in the last 7 days" in html
    assert 'data-chart="donut"' in html  # the daily visit already counts


@pytest.mark.parametrize("query", ["days=365", "page=0", "page=abc"])
def test_bad_input_is_a_clear_400(client, learner, query):
    response = client.get(f"/journey?{query}")
    assert response.status_code == 400
    assert "days must be 7, 30 or all" in response.get_data(as_text=True) or "page" in response.get_data(as_text=True)
