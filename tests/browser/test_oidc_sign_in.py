"""Browser: "Sign in with <platform>" through a real OpenID provider, in Chromium (issue 13).

The provider (tests/oidc_support.py) runs in a thread on localhost; Thrive's
live server on 127.0.0.1. Chromium follows the real redirects: Thrive → the
provider's authorization page → back to Thrive's callback → home; and sign-out
posts a form that continues to the provider's end-session page (the CSP's
``form-action`` must allow it) and comes back to Thrive's sign-in page.
"""
from __future__ import annotations

import re

import pytest

from tests.oidc_support import PLATFORM, PROVIDER_WARNINGS, oidc_settings, running_provider

from .conftest import axe_violations, format_violations, screenshot

pytestmark = [pytest.mark.browser, *PROVIDER_WARNINGS]


@pytest.fixture
def provider():
    with running_provider() as running:
        yield running


@pytest.fixture
def app_config(database_url, provider) -> dict:
    return {"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "test-secret-key",
            "THRIVE_LOGIN_RATE_LIMIT": "1000 per minute", **oidc_settings(provider.issuer)}


def thrive_problems(page, live_server: str) -> list[str]:
    """Console errors and failed requests of Thrive's own pages (the provider's pages load a CDN stylesheet)."""
    log = page.thrive_log
    return [p for p in log.failed_requests if live_server in p] + [
        e for e in log.console_errors + log.page_errors if "Content Security Policy" in e or "Refused" in e]


def test_an_api_learner_signs_in_with_the_platform_and_out_again(app, page, live_server, provider, backend):
    from thrive.extensions import db
    from thrive.services.accounts.learners import create_learner
    from thrive.services.points.award import award

    with app.app_context():
        learner = create_learner("grace", "Grace", external_id="lms-grace")
        award(learner.id, "project_created", event_key="b1")   # 20 points
        award(learner.id, "quiz_completed", event_key="b2")    # 20 points
        db.session.remove()
    provider.set_user("lms-grace", {"preferred_username": "grace", "name": "Grace Hopper",
                                    "zoneinfo": "America/New_York"})

    page.goto("/login")
    page.get_by_role("button", name=f"Sign in with {PLATFORM}").click()
    page.wait_for_url(re.compile(r"^http://localhost:\d+/oauth2/authorize\?"))
    page.get_by_placeholder("sub").fill("lms-grace")
    page.get_by_role("button", name="Authorize").click()

    page.wait_for_url(f"{live_server}/")
    page.get_by_role("heading", name="Your Thrive Circle", level=1).wait_for()
    stats = page.locator("#status-panel").inner_text()
    assert re.search(r"Total points\s*45\b", stats), stats  # 40 reported by the platform + 5 for today's visit
    assert "Grace Hopper" in page.content()
    screenshot(page, f"{backend}-oidc-home")
    page.goto("/settings")
    page.get_by_role("heading", name=f"Sign-in with {PLATFORM}").wait_for()
    assert "Your account has no password" in page.content()  # unlinking would ask for one
    violations = axe_violations(page)
    assert violations == [], format_violations("settings (linked)", violations)

    page.get_by_role("button", name="Sign out", exact=True).click()
    page.wait_for_url(re.compile(r"^http://localhost:\d+/oauth2/end_session\?"))
    page.get_by_role("button", name="End session").click()
    page.wait_for_url(re.compile(rf"^{re.escape(live_server)}/login"))
    page.get_by_text("You are signed out").wait_for()
    assert page.get_by_role("button", name=f"Sign in with {PLATFORM}").is_visible()
    assert thrive_problems(page, live_server) == []


def test_denying_consent_ends_on_a_clear_page(page, live_server, provider, backend):
    page.goto("/login")
    page.get_by_role("button", name=f"Sign in with {PLATFORM}").click()
    page.wait_for_url(re.compile(r"^http://localhost:\d+/oauth2/authorize\?"))
    page.get_by_role("button", name="Deny").click()
    page.wait_for_url(re.compile(rf"^{re.escape(live_server)}/login/oidc/callback\?"))
    page.get_by_role("heading", name="Sign-in cancelled", level=1).wait_for()
    screenshot(page, f"{backend}-oidc-denied")
    violations = axe_violations(page)
    assert violations == [], format_violations("sign-in problem page", violations)
    page.goto("/")
    page.wait_for_url(re.compile(r"/login"))  # nobody signed in
