"""Browser: every learner page passes axe-core (no serious or critical violations), light and dark, 1366 px and 360 px.

For each mode the test signs in as a learner of a small community
(:func:`conftest.populate`) and opens every learner page (the report page through a feed item's
link); on each it
- saves a full-page screenshot (``test-artifacts/screenshots/``),
- runs axe-core (WCAG 2.x A/AA and best practices) and collects violations
  with impact *serious* or *critical*,
- checks that the page ran cleanly (no console error, no CSP violation, no
  failed request) and does not scroll sideways at either width (issue 11: 360 px and 1366 px),
- at phone width, that the main navigation is the bottom tab bar,
- checks that no peer's point total is visible anywhere (§1.3).
All problems of all pages are reported together.
"""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import layout_matrix_on_sqlite

from .conftest import axe_violations, format_violations, screenshot, sign_in

pytestmark = pytest.mark.browser

SIGNED_IN_PAGES = [
    ("home", "/", "Your Thrive Circle"),
    ("community", "/community", "Community"),
    ("community-following", "/community/following", "Community"),
    ("journey", "/journey", "My Journey"),
    ("journey-all", "/journey?days=all", "My Journey"),
    ("settings", "/settings", "Settings"),
    ("notifications", "/notifications", "Notifications"),
    ("profile", "/u/sam", "Sam Carter"),
    ("own-profile", "/u/ava", "Ava Lovelace"),
    ("followers", "/u/sam/followers", None),
    ("points", "/points", None),
    ("panel-goals", "/panels/goals", None),
    ("panel-circle", "/panels/circle", None),
]
ANONYMOUS_PAGES = [("login", "/login", "Sign in"), ("register", "/register", "Join Thrive")]

#: Issue 11's widths: a small phone and a common laptop.
PHONE = {"width": 360, "height": 780}
LAPTOP = {"width": 1366, "height": 900}
MODES = {
    "laptop-light": (LAPTOP, "light"),
    "laptop-dark": (LAPTOP, "dark"),
    "phone-light": (PHONE, "light"),
    "phone-dark": (PHONE, "dark"),
}


def _use_theme(page, theme: str) -> None:
    """Pick ``theme`` with the header's toggle (remembered in a cookie the server reads)."""
    toggle = page.locator("[data-theme-toggle]").first
    expect(toggle).to_be_visible()
    if _effective_theme(page) != theme:
        toggle.click()
        expect(page.locator("html")).to_have_attribute("data-theme", theme)
    assert _effective_theme(page) == theme


def _effective_theme(page) -> str:
    """The theme in force: the explicit ``data-theme`` choice, else the OS preference (Pico's rule)."""
    return page.evaluate("""() => document.documentElement.getAttribute('data-theme')
        || (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light')""")


def _check(page, where: str, heading: str | None, secrets: tuple[str, ...], signed_in: bool = True) -> list[str]:
    problems = []
    if heading:
        h1 = page.locator("h1").first
        expect(h1).to_be_visible()
        if heading not in h1.inner_text():
            problems.append(f"{where}: expected an <h1> with {heading!r}, got {h1.inner_text()!r}")
    violations = axe_violations(page)
    if violations:
        problems.append(format_violations(where, violations))
    text = page.locator("body").inner_text()
    for secret in secrets:
        if secret in text:
            problems.append(f"{where}: a peer's point total {secret!r} is visible (§1.3)")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    if overflow > 0:
        problems.append(f"{where}: {overflow} px of horizontal scroll")
    if signed_in and page.viewport_size == PHONE:
        box = page.get_by_role("navigation", name="Main").bounding_box()
        if not box or box["y"] + box["height"] < PHONE["height"] - 2:
            problems.append(f"{where}: the main navigation is not the bottom tab bar on a phone")
    log = page.thrive_log.problems()
    if log:
        problems.append(f"{where}: " + "; ".join(log))
        log.clear()
        page.thrive_log.console_errors.clear()
        page.thrive_log.page_errors.clear()
        page.thrive_log.failed_requests.clear()
    return problems


@layout_matrix_on_sqlite
@pytest.mark.parametrize("mode", list(MODES))
def test_learner_pages_are_accessible(new_page, community, backend, mode):
    viewport, theme = MODES[mode]
    problems: list[str] = []

    anonymous = new_page(viewport=viewport)
    anonymous.goto("/login")
    _use_theme(anonymous, theme)
    for slug, path, heading in ANONYMOUS_PAGES:
        anonymous.goto(path)
        screenshot(anonymous, f"{backend}-{mode}-{slug}")
        problems += _check(anonymous, f"{path} ({mode}, signed out)", heading, (), signed_in=False)

    page = new_page(viewport=viewport)
    sign_in(page, "ava")
    _use_theme(page, theme)
    for slug, path, heading in SIGNED_IN_PAGES:
        response = page.goto(path)
        assert response.status == 200, f"{path}: HTTP {response.status}"
        page.wait_for_load_state("networkidle")
        screenshot(page, f"{backend}-{mode}-{slug}")
        problems += _check(page, f"{path} ({mode})", heading, community.secret_totals)

    # the report page of a feed item, reached by the link a feed item offers without JavaScript
    page.goto("/community")
    link = page.locator(".report-slot a[href*='/community/report?']").first
    href = link.get_attribute("href")
    assert href, "no feed item offers a report link"
    response = page.goto(href)
    assert response.status == 200, f"{href}: HTTP {response.status}"
    screenshot(page, f"{backend}-{mode}-report")
    problems += _check(page, f"{href} ({mode})", "Report", community.secret_totals)

    assert not problems, "\n\n".join(problems)
