"""Browser: an award through the integration API that crosses a tier is celebrated without a reload (§7, §13).

The page's polls (status panel every 30 s, bell every 30 s) are real htmx
timers; Playwright's fake clock lets the test jump 31 s ahead instead of
waiting, so the celebration arrives by polling — the document is never
reloaded (a marker set on ``window`` survives).
"""
from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

from .conftest import axe_violations, format_violations, screenshot, sign_in

pytestmark = pytest.mark.browser


def test_tier_up_through_api_is_celebrated_once_without_reload(new_page, make_learner, api_headers, live_server,
                                                               backend):
    make_learner("maya", display_name="Maya Angelou", external_id="ext-maya")
    page = new_page()
    page.clock.install()  # fake timers: the 30 s polls can be fast-forwarded
    sign_in(page, "maya")
    status = page.locator("#status-panel")
    expect(status).to_contain_text("Ember")
    expect(page.locator("dialog[data-celebration]")).to_have_count(0)
    page.evaluate("() => { window.__thriveMarker = 'no reload'; }")
    # issue 11 (Lighthouse): confetti is not loaded with every page, only when a celebration opens
    assert page.evaluate("() => typeof window.confetti") == "undefined"
    assert not page.locator("script[src*='confetti']").count()

    response = requests.post(f"{live_server}/api/v1/events", headers=api_headers, timeout=30, json={
        "user": "ext-maya", "activity_type": "special_event", "event_key": "hackathon-2026:maya",
        "points": 300, "description": "Hackathon winner",
    })
    assert response.status_code == 201, response.text
    result = response.json()
    assert result["tier_upgraded"] is True and result["tier"] == "spark", result

    page.clock.fast_forward("00:31")  # the status and bell polls fall due and fetch their fragments
    dialog = page.locator("dialog[data-celebration]")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Spark")
    assert page.evaluate("() => window.__thriveMarker") == "no reload"
    assert page.evaluate("() => document.querySelector('dialog[data-celebration]').matches(':modal')"), \
        "the celebration should be a modal dialog"
    thanks = dialog.get_by_role("button", name="Thanks!")
    expect(thanks).to_be_focused()
    expect(dialog.locator("canvas.confetti-canvas")).to_have_count(1)  # fetched on demand, drawn in the dialog
    assert page.evaluate("() => typeof window.confetti") == "function"
    expect(status).to_contain_text("Spark")  # the status panel itself was refreshed by the same poll
    screenshot(page, f"{backend}-celebration-tier-up")
    violations = axe_violations(page)
    assert not violations, format_violations("the celebration modal", violations)

    thanks.click()
    expect(dialog).to_have_count(0)
    page.clock.fast_forward("00:31")  # later polls do not bring it back: shown exactly once
    page.wait_for_timeout(300)
    expect(page.locator("dialog[data-celebration]")).to_have_count(0)
    page.reload()
    expect(page.get_by_role("heading", name="Your Thrive Circle", level=1)).to_be_visible()
    expect(page.locator("dialog[data-celebration]")).to_have_count(0)
    expect(page.locator("#status-panel")).to_contain_text("Spark")
    assert page.thrive_log.problems() == []
