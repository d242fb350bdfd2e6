"""Browser (issue 11): every learner page fits 360 px and 1366 px in light and dark themes; discover cards
hold after following; notification links land on their subject; no serious/critical axe violations."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import layout_matrix_on_sqlite

from .conftest import axe_violations, format_violations, screenshot, sign_in

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 780}
LAPTOP = {"width": 1366, "height": 900}
LEARNER_PAGES = ["/", "/community", "/journey", "/notifications", "/settings", "/points", "/u/sam",
                 "/panels/goals", "/panels/circle"]


def _overflow(page) -> int:
    """How many CSS pixels the page is wider than the viewport (0 = no horizontal scroll)."""
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


@pytest.mark.parametrize("viewport,scheme", [(PHONE, "light"), (PHONE, "dark"), (LAPTOP, "light"),
                                             (LAPTOP, "dark")],
                         ids=["360-light", "360-dark", "1366-light", "1366-dark"])
@layout_matrix_on_sqlite
def test_no_horizontal_overflow_and_no_serious_axe_violations(new_page, community, viewport, scheme, backend):
    page = new_page(viewport=viewport, color_scheme=scheme)
    sign_in(page, "ava")
    problems = []
    for path in LEARNER_PAGES:
        page.goto(path)
        page.wait_for_load_state("load")
        if _overflow(page) > 0:
            problems.append(f"{path}: {_overflow(page)} px of horizontal scroll")
        if viewport is PHONE:
            tabs = page.get_by_role("navigation", name="Main")
            box = tabs.bounding_box()
            assert box and box["y"] + box["height"] >= viewport["height"] - 2, "bottom tab bar on a phone"
        violations = axe_violations(page)
        if violations:
            problems.append(format_violations(path, violations))
    screenshot(page, f"{backend}-ux-{viewport['width']}-{scheme}")
    assert not problems, "\n".join(problems)


def test_discover_cards_hold_after_follow(new_page, community):
    page = new_page(viewport=PHONE)
    sign_in(page, "ava")
    page.goto("/community")
    card = page.locator(".person-card").filter(has_text="Sam Carter")
    before = card.bounding_box()
    card.get_by_role("button", name=re.compile("^Follow")).click()
    expect(card.get_by_text("Following")).to_be_visible()
    name = card.locator(".person-name").bounding_box()
    after = card.bounding_box()
    assert name["width"] > 60, "the name does not wrap letter by letter"
    assert after["width"] <= before["width"] + 1 and after["height"] < 4 * before["height"]
    mark = card.locator(".following-mark").bounding_box()
    chip = card.locator(".tier-chip").bounding_box()
    overlaps = not (mark["x"] >= chip["x"] + chip["width"] or chip["x"] >= mark["x"] + mark["width"]
                    or mark["y"] >= chip["y"] + chip["height"] or chip["y"] >= mark["y"] + mark["height"])
    assert not overlaps, "“Following” overlaps the tier badge"


def test_notification_links_land_on_their_subject(new_page, community, app):
    from thrive.extensions import db
    from thrive.services.community.follows import follow

    with app.app_context():
        follow(community.ids["sam"], community.ids["ava"])
        db.session.remove()
    page = new_page()
    sign_in(page, "ava")
    page.goto("/notifications")
    page.get_by_role("link", name="Sam Carter started following you").click()
    page.wait_for_url(re.compile(r"/u/sam$"))
    expect(page.get_by_role("heading", name="Sam Carter", level=1)).to_be_visible()
    page.goto("/notifications")
    page.get_by_role("link", name=re.compile(r"^You reached Spark")).click()
    page.wait_for_url(re.compile(r"/#status-panel$"))
    expect(page.locator("#status-panel")).to_be_visible()
