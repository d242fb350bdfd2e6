"""Browser: joining Thrive through the real sign-up form lands on "Your Thrive Circle" (§7, §15)."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import screenshot, sign_in

pytestmark = pytest.mark.browser


def test_sign_up_and_see_home(page, backend):
    page.goto("/")
    page.wait_for_url(re.compile(r"/login"))  # anonymous visitors are sent to sign in
    page.get_by_role("link", name="Create an account").click()
    page.wait_for_url(re.compile(r"/register$"))
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Display name").fill("Ada Lovelace")
    page.get_by_label("Email (optional)").fill("ada@example.org")
    page.get_by_label("Time zone").select_option("Europe/London")
    page.get_by_label("Password", exact=True).fill("correct horse")
    page.get_by_label("Repeat password").fill("correct horse")
    screenshot(page, f"{backend}-register-filled")
    page.get_by_role("button", name="Create account").click()

    page.wait_for_url(re.compile(r"/$"))
    page.get_by_role("heading", name="Your Thrive Circle", level=1).wait_for()
    page.get_by_text("Welcome to Thrive!").wait_for()
    status = page.locator("#status-panel")
    # A new learner starts at Ember; the first page view of the day awarded daily_login.
    assert "Ember" in status.inner_text()
    assert re.search(r"\b245 points to Spark\b", status.inner_text()), status.inner_text()
    screenshot(page, f"{backend}-home-after-sign-up")
    assert page.thrive_log.problems() == []


def test_sign_up_errors_are_shown_on_the_form(page, make_learner, backend):
    make_learner("taken", password="password123")
    page.goto("/register")
    page.get_by_label("Username").fill("taken")
    page.get_by_label("Display name").fill("Someone")
    page.get_by_label("Password", exact=True).fill("short")
    page.get_by_label("Repeat password").fill("different")
    page.get_by_role("button", name="Create account").click()
    page.wait_for_load_state()
    assert re.search(r"/register$", page.url)
    body = page.locator("main").inner_text()
    assert "at least 8 characters" in body
    assert "Passwords do not match." in body
    screenshot(page, f"{backend}-register-errors")
    # with valid passwords, the taken username is the remaining problem, shown at the field
    page.get_by_label("Password", exact=True).fill("long enough lantern")
    page.get_by_label("Repeat password").fill("long enough lantern")
    page.get_by_role("button", name="Create account").click()
    page.wait_for_load_state()
    assert re.search(r"/register$", page.url)
    expect(page.locator("#username-error")).to_contain_text("taken")
    expect(page.get_by_label("Display name")).to_have_value("Someone")  # what was typed is kept


def test_sign_in_wrong_password_then_right(page, make_learner):
    make_learner("grace", password="password123")
    page.goto("/login")
    page.get_by_label("Username").fill("grace")
    page.get_by_label("Password", exact=True).fill("nope-nope")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("Unknown username or wrong password.").wait_for()
    sign_in(page, "grace")
    assert page.get_by_role("heading", name="Your Thrive Circle", level=1).is_visible()


def test_expired_session_sends_a_polling_page_to_sign_in(page, make_learner, backend):
    """An HTMX poll after the session is gone gets HX-Redirect: the whole page goes to sign-in (§7),
    instead of a sign-in form being swapped into a panel."""
    make_learner("ines", password="password123")
    page.clock.install()
    sign_in(page, "ines")
    page.context.clear_cookies()  # the session expires (or is revoked) while the page stays open
    page.clock.fast_forward("00:31")  # the status panel's and the bell's 30 s polls
    # Both polls answer HX-Redirect, so the first navigation may be aborted by the second: wait for where the
    # page ends up (a retrying assertion), not for one navigation event.
    expect(page).to_have_url(re.compile(r"/login\?next="))
    expect(page.get_by_role("heading", name="Sign in", level=1)).to_be_visible()
    expect(page.locator("#status-panel")).to_have_count(0)
    screenshot(page, f"{backend}-expired-session-redirect")


def test_sign_up_detects_the_browsers_time_zone(browser, live_server):
    """Issue 11: the time zone detected in the browser is preselected on sign-up (thrive.js reads it only on the
    forms that ask, not on every page)."""
    context = browser.new_context(base_url=live_server, timezone_id="America/Mexico_City")
    try:
        page = context.new_page()
        page.goto("/register")
        expect(page.get_by_label("Time zone")).to_have_value("America/Mexico_City")
    finally:
        context.close()
