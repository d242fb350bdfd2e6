"""Browser: cheering a feed item, following from discover, and privacy switches seen from another session (§8)."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import axe_violations, format_violations, screenshot, sign_in

pytestmark = pytest.mark.browser


def _item(page, kind: str, item_id: int):
    return page.locator(f"#feed-{kind}-{item_id}")


def test_cheer_feed_items_shows_points_toast_with_diminishing_returns(page, community, app, backend):
    sign_in(page, "ava")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Community").click()
    page.wait_for_url(re.compile(r"/community$"))
    quiz = _item(page, "entry", community.sam_quiz)
    expect(quiz).to_contain_text("Sam Carter completed a quiz on Prompt Engineering")
    toasts = page.locator("#toasts [data-toast]")
    expect(toasts).to_have_count(0)

    quiz.get_by_role("button", name="Cheer").click()
    expect(quiz.get_by_role("button", name="Cheered")).to_be_disabled()
    expect(quiz).to_contain_text("1 cheer")
    expect(toasts.filter(has_text="+2 points")).to_have_count(1)
    screenshot(page, f"{backend}-community-cheer-toast")

    # a second cheer for the same person within 24 h is worth half (§8.1 anti-farming) …
    project = _item(page, "entry", community.sam_project)
    project.get_by_role("button", name="Cheer").click()
    expect(project.get_by_role("button", name="Cheered")).to_be_disabled()
    expect(toasts.filter(has_text="+1 point")).to_have_count(1)
    # … and a third one nothing: no toast, but the cheer counts
    phoenix = _item(page, "tier-up", community.sam_phoenix)
    expect(phoenix).to_contain_text("Sam Carter reached Phoenix!")
    phoenix.get_by_role("button", name="Cheer").click()
    expect(phoenix.get_by_role("button", name="Cheered")).to_be_disabled()
    page.wait_for_timeout(500)
    assert toasts.count() <= 2 and toasts.filter(has_text="+0").count() == 0
    # the learner's own items cannot be cheered
    own = page.locator(".feed-item", has_text="Ava Lovelace completed a quiz on Python")
    expect(own).to_have_count(1)
    expect(own.get_by_role("button", name="Cheer")).to_have_count(0)

    from sqlalchemy import select

    from thrive.extensions import db
    from thrive.models import LedgerEntry

    with app.app_context():
        points = db.session.scalars(select(LedgerEntry.points).where(
            LedgerEntry.learner_id == community.ids["ava"], LedgerEntry.activity_type == "reaction_given"
        ).order_by(LedgerEntry.id)).all()
        db.session.remove()
    assert points == [2, 1, 0]
    assert page.thrive_log.problems() == []


def test_follow_from_discover_then_following_tab(page, community, app, backend):
    sign_in(page, "ava")
    page.goto("/community")
    discover = page.locator("#discover-panel")
    expect(discover.get_by_role("link", name="Sam Carter")).to_be_visible()
    expect(discover).not_to_contain_text("Kim Private")  # does not share her profile (§8.4)
    expect(discover).not_to_contain_text("Ava Lovelace")  # never oneself
    discover.get_by_role("button", name="Follow Sam Carter").click()
    expect(discover.get_by_role("button", name="Unfollow Sam Carter")).to_be_visible()
    expect(discover).to_contain_text("Following")
    screenshot(page, f"{backend}-community-followed")

    page.locator("#feed-panel").get_by_role("link", name="Following").click()
    feed = page.locator("#feed-panel")
    expect(feed.get_by_role("heading", name="People you follow")).to_be_visible()
    expect(feed).to_contain_text("Sam Carter completed a quiz on Prompt Engineering")
    expect(feed).to_contain_text("Sam Carter reached Phoenix!")
    expect(feed).not_to_contain_text("Ava Lovelace")
    expect(feed).not_to_contain_text("A learner gave feedback to a peer")
    screenshot(page, f"{backend}-community-following-tab")

    from sqlalchemy import select

    from thrive.extensions import db
    from thrive.models import Follow, Notification

    with app.app_context():
        assert db.session.get(Follow, (community.ids["ava"], community.ids["sam"])) is not None
        kinds = db.session.scalars(select(Notification.type).where(
            Notification.learner_id == community.ids["sam"])).all()
        db.session.remove()
    assert "new_follower" in kinds
    # the follow survives a reload (it is stored, not just swapped in)
    page.goto("/community")
    expect(page.locator("#discover-panel").get_by_role("button", name="Unfollow Sam Carter")).to_be_visible()
    assert page.thrive_log.problems() == []


def test_privacy_switches_take_effect_in_another_learners_session(new_page, community, backend):
    viewer = new_page()
    viewer.clock.install()  # the feed polls every 60 s: fast-forwarded below
    sign_in(viewer, "ava")
    viewer.goto("/community")
    feed = viewer.locator("#feed-panel")
    expect(feed).to_contain_text("Sam Carter completed a quiz on Prompt Engineering")
    expect(feed).not_to_contain_text("Secret Topic")  # Lee does not share activities
    expect(feed).not_to_contain_text("Lee Quiet")
    expect(feed).to_contain_text("A learner gave feedback to a peer")  # Kim's private profile: anonymous
    viewer.evaluate("() => { window.__thriveMarker = 'no reload'; }")

    sam = new_page()
    sign_in(sam, "sam")
    sam.goto("/settings")
    share = sam.get_by_role("switch", name="Share my activities")
    expect(share).to_be_checked()
    share.uncheck()
    sam.get_by_role("button", name="Save settings").click()
    expect(sam.get_by_text("Settings saved.")).to_be_visible()
    screenshot(sam, f"{backend}-settings-share-activities-off")

    viewer.clock.fast_forward("01:01")  # the feed's 60 s poll
    expect(feed).not_to_contain_text("Sam Carter", timeout=10_000)
    assert viewer.evaluate("() => window.__thriveMarker") == "no reload"
    screenshot(viewer, f"{backend}-community-after-sam-stopped-sharing")

    # share profile off: gone from discover, profile page 404
    viewer.goto("/u/sam")
    expect(viewer.get_by_role("heading", name=re.compile("Sam Carter"))).to_be_visible()
    sam.reload()
    profile_switch = sam.get_by_role("switch", name="Share my profile")
    profile_switch.uncheck()
    sam.get_by_role("button", name="Save settings").click()
    expect(sam.get_by_text("Settings saved.")).to_be_visible()
    response = viewer.goto("/u/sam")
    assert response.status == 404
    viewer.goto("/community")
    expect(viewer.locator("#discover-panel")).not_to_contain_text("Sam Carter")
    assert sam.thrive_log.problems() == []


def test_open_a_feed_group_with_the_keyboard_then_cheer_inside_it(page, community, app, backend):
    """A group shows its headline; opening it (Enter on its summary) fetches its items, cheerable (issue 12)."""
    from datetime import timedelta

    from thrive.extensions import db
    from thrive.services.points.award import award
    from thrive.timeutil import utcnow

    with app.app_context():  # with Ava's comment: three people posted a comment today
        for who in ("sam", "kim"):
            award(community.ids[who], "comment_posted", event_key=f"browser:group:{who}",
                  occurred_at=utcnow() - timedelta(minutes=5), metadata={"topic": "Python"})
        db.session.remove()
    sign_in(page, "ava")
    page.goto("/community")
    group = page.locator("#feed-panel li.feed-group", has_text="joined a discussion")
    expect(group).to_have_count(1)
    expect(group.locator(".feed-group-items")).to_have_count(0)   # not in the page until opened
    group.locator("summary").focus()
    page.keyboard.press("Enter")
    items = group.locator(".feed-group-items")
    expect(items.locator(".feed-item")).to_have_count(3)
    sam = items.locator(".feed-item", has_text="Sam Carter")
    expect(items.locator(".feed-item", has_text="A learner")).to_have_count(1)   # Kim's private profile
    expect(items.locator(".feed-item", has_text="Ava Lovelace").get_by_role("button", name="Cheer")).to_have_count(0)
    sam.get_by_role("button", name="Cheer").focus()
    page.keyboard.press("Enter")
    expect(sam.get_by_role("button", name="Cheered")).to_be_disabled()
    expect(sam).to_contain_text("1 cheer")
    violations = axe_violations(page)
    assert not violations, format_violations("community with a group opened", violations)
    screenshot(page, f"{backend}-community-group-opened")
    # without JavaScript the group's link is a page of its own: the same items, accessible too
    page.goto(group.locator("details").first.get_attribute("hx-get") or "", wait_until="load")
    expect(page.get_by_role("heading", level=2)).to_contain_text("joined a discussion")
    expect(page.locator(".feed-group-items .feed-item")).to_have_count(3)
    expect(page.locator(".feed-item", has_text="Sam Carter").get_by_role("button", name="Cheered")).to_be_disabled()
    violations = axe_violations(page)
    assert not violations, format_violations("a feed group's page", violations)
    assert page.thrive_log.problems() == []
