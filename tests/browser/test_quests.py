"""Browser: start a side quest, complete it through the API, see the celebration and the badge (§7, §10, §13).

Also runs axe-core on the new pages (/quests, /achievements, a profile with badges), light and dark.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests
from playwright.sync_api import expect

from thrive.extensions import db
from thrive.services.achievements import catalog as achievements
from thrive.services.quests import catalog as quests

from .conftest import PHONE, axe_violations, format_violations, screenshot, sign_in

pytestmark = pytest.mark.browser


def _define(app):
    with app.app_context():
        q = quests.create_quest({"key": "two-quizzes", "title": "Two quizzes", "description": "Finish two quizzes.",
                                 "activity_type": "quiz_completed", "target": 2}, now=datetime.now(UTC) - timedelta(1))
        quests.set_status(q.id, "published")
        locked = quests.create_quest({"key": "blaze-trial", "title": "Blaze trial", "activity_type": "feedback_given",
                                      "target": 5, "min_tier": "blaze", "difficulty": "advanced"})
        quests.set_status(locked.id, "published")
        achievements.create_achievement({
            "key": "adventurer", "name": "Adventurer", "icon": "🗺️", "criteria_text": "Complete a side quest.",
            "criteria": {"kind": "quests", "target": 1}, "reward": 25})
        achievements.create_achievement({
            "key": "ten-quizzes", "name": "Quiz Explorer", "criteria_text": "Complete 10 quizzes.",
            "criteria": {"kind": "counter", "counter": "quizzes_completed", "target": 10}, "reward": 50})
        achievements.create_achievement({
            "key": "hidden", "name": "Hidden Gem", "criteria_text": "Secret.", "secret": True,
            "criteria": {"kind": "counter", "counter": "comments_posted", "target": 50}, "reward": 25})
        db.session.remove()


def test_start_a_quest_complete_it_through_the_api_and_see_the_badge(app, new_page, make_learner, api_headers,
                                                                      live_server, backend):
    _define(app)
    make_learner("maya", display_name="Maya Angelou", external_id="ext-maya")
    page = new_page()
    page.clock.install()
    sign_in(page, "maya")
    page.get_by_role("link", name="Quests").first.click()
    page.get_by_role("heading", name="Side quests", level=1).wait_for()
    expect(page.locator("[data-quest='blaze-trial']")).to_contain_text("Unlocks at")
    page.get_by_role("button", name="Start Two quizzes").click()
    board = page.locator("#quest-board")
    expect(board).to_contain_text("Quest started")
    expect(board.locator("[data-quest='two-quizzes']")).to_contain_text("0 / 2 quizzes")

    for i in (1, 2):
        response = requests.post(f"{live_server}/api/v1/events", headers=api_headers, timeout=30, json={
            "user": "ext-maya", "activity_type": "quiz_completed", "event_key": f"quiz:maya:{i}",
            "metadata": {"topic": "Python"}})
        assert response.status_code == 201, response.text
    status = requests.get(f"{live_server}/api/v1/users/ext-maya", headers=api_headers, timeout=30).json()
    assert status["quests"] == [] and [a["key"] for a in status["achievements"]] == ["adventurer"]

    page.goto("/")
    dialog = page.locator("dialog[data-celebration]")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Side quest complete: Two quizzes")
    expect(dialog).to_contain_text("Adventurer")
    dialog.get_by_role("button", name="Thanks!").click()
    expect(dialog).to_have_count(0)

    page.goto("/u/maya")
    badges = page.locator("#profile-badges")
    expect(badges).to_contain_text("Adventurer")
    screenshot(page, f"{backend}-quest-badge-profile")
    violations = axe_violations(page)
    assert not violations, format_violations("the profile with badges", violations)

    page.goto("/quests")
    expect(page.locator("[data-quest='two-quizzes']")).to_contain_text("Completed")
    violations = axe_violations(page)
    assert not violations, format_violations("/quests", violations)

    page.goto("/achievements")
    expect(page.locator("[data-achievement='adventurer']")).to_contain_text("Earned")
    expect(page.locator("[data-achievement='ten-quizzes']")).to_contain_text("2 / 10")
    expect(page.locator(".achievement-secret")).to_contain_text("???")
    page.locator("[data-achievement='adventurer']").get_by_role("button", name="Feature").click()
    expect(page.locator("#achievement-board")).to_contain_text("featured on your profile")
    screenshot(page, f"{backend}-achievements")
    violations = axe_violations(page)
    assert not violations, format_violations("/achievements", violations)
    assert page.thrive_log.problems() == []


def test_new_pages_are_accessible_in_dark_mode_on_a_phone(app, new_page, make_learner):
    _define(app)
    make_learner("lee")
    page = new_page(viewport=PHONE, color_scheme="dark")
    sign_in(page, "lee")
    for path in ("/quests", "/achievements", "/"):
        page.goto(path)
        violations = axe_violations(page)
        assert not violations, format_violations(f"{path} (dark, phone)", violations)
        assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"), path
    assert page.thrive_log.problems() == []
