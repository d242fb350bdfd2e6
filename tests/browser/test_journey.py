"""Browser: My Journey's charts are inline SVG from the server (issue 11 item 9) — no chart script is fetched,
the charts hold their size from the first paint, the window tabs swap them with HTMX, and they show without
JavaScript."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import PASSWORD, axe_violations, format_violations, screenshot, sign_in

pytestmark = pytest.mark.browser


def _chart_boxes(page) -> dict:
    return page.evaluate("""() => Object.fromEntries(['donut', 'stacked'].map(kind => {
        const r = document.querySelector(`svg[data-chart="${kind}"]`).getBoundingClientRect();
        return [kind, {width: r.width, height: r.height}];
    }))""")


def test_journey_charts_are_svg_and_swap_with_the_window(new_page, community, backend):
    page = new_page(viewport={"width": 360, "height": 740})
    scripts = []
    page.on("request", lambda request: scripts.append(request.url) if request.resource_type == "script" else None)
    sign_in(page, "ava")
    page.goto("/journey")
    donut = page.locator('svg[data-chart="donut"]')
    expect(donut).to_have_attribute("role", "img")
    expect(page.locator("canvas")).to_have_count(0)
    boxes = _chart_boxes(page)
    assert boxes["donut"]["height"] >= 150 and boxes["stacked"]["height"] >= 150, boxes
    assert boxes["stacked"]["width"] <= 360, boxes
    thirty = page.locator('svg[data-chart="stacked"] g[data-bucket]').count()
    assert thirty == 30
    page.get_by_role("link", name="Last 7 days").click()
    expect(page.get_by_role("link", name="Last 7 days")).to_have_attribute("aria-current", "page")
    expect(page.locator('svg[data-chart="stacked"] g[data-bucket]')).to_have_count(7)
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
    assert not any("chart" in url or "confetti" in url for url in scripts), scripts
    screenshot(page, f"{backend}-journey-svg-charts-phone")
    assert not axe_violations(page), format_violations("journey charts", axe_violations(page))
    assert not page.thrive_log.problems(), page.thrive_log.problems()


def test_journey_charts_show_without_javascript(browser, live_server, community):
    context = browser.new_context(base_url=live_server, java_script_enabled=False,
                                  viewport={"width": 360, "height": 740})
    try:
        page = context.new_page()
        page.goto("/login")
        page.get_by_label("Username").fill("ava")
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.goto("/journey?days=all")
        boxes = _chart_boxes(page)
        assert boxes["donut"]["height"] >= 150 and boxes["stacked"]["height"] >= 150, boxes
        expect(page.locator('svg[data-chart="donut"] circle[data-category]').first).to_be_attached()
        expect(page.get_by_text("need JavaScript")).to_have_count(0)
    finally:
        context.close()
