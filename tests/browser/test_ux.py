"""Browser (issue 11): discover cards hold after following; notification links land on their subject.

That every learner page fits 360 px and 1366 px in light and dark themes with no serious or critical axe
violation is checked, page by page, by ``test_accessibility.py``."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import sign_in

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 780}
LAPTOP = {"width": 1366, "height": 900}
LEARNER_PAGES = ["/", "/community", "/journey", "/notifications", "/settings", "/points", "/u/sam",
                 "/panels/goals", "/panels/circle"]


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
