"""My Journey page (§7): windows, HTMX fragments, the charts as inline SVG (no script) beside the tables."""
from __future__ import annotations

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
    # issue 11 item 9: the charts are inline SVG drawn on the server — no Chart.js, no chart data for a script
    assert "chart.umd.js" not in html and "data-chart-json" not in html and "<canvas" not in html
    assert '<svg viewBox="0 0 42 42"' in html and 'data-chart="stacked"' in html
    assert "Completed a quiz" in html  # ledger history row label


def _svg_points(html: str, chart: str) -> list[tuple[str, int]]:
    """(category, points) of each segment or bar of the ``chart`` ("donut" or "stacked") SVG."""
    svg = re.search(rf'<svg[^>]*data-chart="{chart}".*?</svg>', html, re.S).group(0)
    return [(k, int(v)) for k, v in re.findall(r'data-category="(\w+)" data-points="(\d+)"', svg)]


def test_charts_are_inline_svg_with_the_tables_figures(client, learner):
    """The donut and the stacked bars carry the same figures as the tables (issue 11 item 9: no script)."""
    html = client.get("/journey?days=all").get_data(as_text=True)
    donut = dict(_svg_points(html, "donut"))
    assert donut == {"learning": 20, "community": 5, "creation": 20, "participation": 5}
    assert donut == {k: v for k, v in _category_cells(html).items() if v}
    stacked = _svg_points(html, "stacked")
    assert sum(points for _key, points in stacked) == 50
    svg = re.search(r'<svg[^>]*data-chart="stacked".*?</svg>', html, re.S).group(0)
    assert svg.count("<g data-bucket=") == 41  # one slot per day of the window
    for chart in ("donut", "stacked"):  # one image each, labelled, pointing to the table
        tag = re.search(rf'<svg[^>]*data-chart="{chart}"[^>]*>', html).group(0)
        assert 'role="img"' in tag and "the table below has the same figures" in tag
    assert "<title>Learning: 20</title>" in html  # a segment's tooltip
    assert "<script" not in html.split('id="journey"')[1]  # nothing to run


def test_svg_geometry():
    """Donut dashes add up to the whole; bars stack from the baseline to a round axis maximum."""
    from thrive.web.journey.chart import HEIGHT, donut, nice_ceiling, stacked

    payload = {"categories": [{"key": "a", "points": 30, "label": "A", "colour": "#111"},
                              {"key": "b", "points": 10, "label": "B", "colour": "#222"},
                              {"key": "c", "points": 0, "label": "C", "colour": "#333"}],
               "series": {"bucket": "day", "labels": ["1 Dec", "2 Dec", "3 Dec"],
                          "datasets": [{"key": "a", "points": [10, 0, 20], "label": "A", "colour": "#111"},
                                       {"key": "b", "points": [5, 0, 5], "label": "B", "colour": "#222"}]}}
    d = donut(payload)
    assert d["total"] == 40 and [s["key"] for s in d["segments"]] == ["a", "b"]
    assert [(s["percent"], s["offset"]) for s in d["segments"]] == [(75.0, 0.0), (25.0, 75.0)]
    s = stacked(payload)
    assert s["top"] == 25 and s["width"] == 30 and s["labels"] == ["1 Dec", "2 Dec", "3 Dec"]
    first, empty, last = s["buckets"]
    assert empty["bars"] == [] and [b["points"] for b in first["bars"]] == [10, 5]
    assert last["bars"][0]["y"] + last["bars"][0]["height"] == HEIGHT  # the first stack sits on the baseline
    assert last["bars"][1]["y"] + last["bars"][1]["height"] == last["bars"][0]["y"]
    assert last["bars"][1]["y"] == 0 and first["bars"][1]["y"] == HEIGHT - HEIGHT * 15 / 25  # the tallest fills it
    assert [nice_ceiling(v) for v in (0, 1, 3, 7, 11, 24, 26, 101)] == [1, 1, 5, 10, 20, 25, 50, 200]


@pytest.mark.parametrize("days,learning,community", [("7", 20, 0), ("30", 20, 5), ("all", 20, 5)])
def test_windows(client, learner, days, learning, community):
    cells = _category_cells(client.get(f"/journey?days={days}").get_data(as_text=True))
    assert cells["learning"] == learning and cells["community"] == community


def test_fragments(client, learner):
    whole = client.get("/journey?days=7", headers={"HX-Request": "true", "HX-Target": "journey"})
    body = whole.get_data(as_text=True)
    assert "<html" not in body and body.lstrip().startswith('<div id="journey">') and 'id="ledger"' in body
    assert 'data-chart="donut"' in body and "<script" not in body  # the SVG charts come with the fragment
    assert "HX-Request" in whole.headers["Vary"]
    # issue 7: no branching on DOM ids — the ledger fragment has its own URL
    ledger = client.get("/journey/ledger?days=7&page=1", headers={"HX-Request": "true"})
    body = ledger.get_data(as_text=True)
    assert body.lstrip().startswith('<section id="ledger"') and "data-chart=" not in body


def test_ledger_paging(app, client, learner):
    with app.app_context():
        for i in range(30):
            award(learner.id, "reaction_given", event_key=f"wj:r{i}", occurred_at=utcnow() - timedelta(days=3 + i % 20))
        db.session.remove()
    first = client.get("/journey?days=all").get_data(as_text=True)
    assert 'href="/journey?days=all&amp;page=2"' in first
    second = client.get("/journey/ledger?days=all&page=2", headers={"HX-Request": "true"})
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
