"""Browser: the admin area (§11) in Chromium — adjust a learner; axe on every admin-core page.

Pages run under the real CSP; each must load without console errors or failed requests,
pass axe-core (no serious or critical violations) in light and dark themes, laptop and phone,
and not scroll sideways at phone width.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import layout_matrix_on_sqlite
from thrive.extensions import db

from .conftest import LAPTOP, PASSWORD, PHONE, axe_violations, format_violations, populate, screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def admin_world(app):
    """The small browser community plus an admin (``boss``, not a learner) and this week's circles."""
    from thrive.services.accounts.learners import create_learner
    from thrive.services.weekly.circles import assign_circles
    from thrive.timeutil import platform_week, utcnow

    community = populate(app)
    with app.app_context():
        create_learner("boss", "Bea Boss", password=PASSWORD, staff_role="admin")
        assign_circles(platform_week(utcnow()))
        db.session.remove()
    return community


def staff_sign_in(page, username: str = "boss") -> None:
    """Sign in through the real form; staff land on the admin dashboard."""
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/admin/$"))
    page.get_by_role("heading", name=re.compile("Dashboard"), level=1).wait_for()


def test_an_admin_adjusts_a_learner(new_page, admin_world, backend):
    page = new_page()
    staff_sign_in(page)
    page.get_by_role("navigation", name="Admin").get_by_role("link", name="Learners").click()
    page.get_by_label("Username, display name, email or external id").fill("ava")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="ava", exact=True).click()
    page.get_by_role("heading", name=re.compile("Ava Lovelace"), level=1).wait_for()

    # Without a reason the form answers with the field's message and changes nothing.
    page.get_by_label("Points (negative to remove)").fill("75")
    page.get_by_role("button", name="Adjust points").click()
    expect(page.get_by_text("A reason is required.")).to_be_visible()
    assert [r for r in page.thrive_log.failed_requests if "HTTP 400" not in r] == []  # the refusal is a 400
    page.thrive_log.failed_requests.clear()

    page.get_by_label("Points (negative to remove)").fill("75")
    page.get_by_label("Reason (kept in the ledger and the audit log)").fill("Mentored the newcomers")
    page.get_by_label("Message to the learner (optional, sent as a notification)").fill("Thank you!")
    page.get_by_role("button", name="Adjust points").click()
    expect(page.get_by_role("status").filter(has_text="Adjusted ava by +75 points")).to_be_visible()
    ledger = page.locator("#ledger")
    expect(ledger.locator("tr", has_text="Mentored the newcomers")).to_contain_text("+75")
    expect(ledger.locator("tr", has_text="Mentored the newcomers")).to_contain_text("adjusted by boss")
    screenshot(page, f"{backend}-admin-adjusted")

    page.get_by_role("navigation", name="Admin").get_by_role("link", name="Audit log").click()
    expect(page.locator("tbody tr").first).to_contain_text("learner.adjust_points")
    assert not page.thrive_log.problems(), page.thrive_log.problems()

    learner = new_page()
    from .conftest import sign_in

    sign_in(learner, "ava")
    learner.goto("/notifications")
    expect(learner.get_by_text("Thank you!")).to_be_visible()


ADMIN_PAGES = [
    ("dashboard", "/admin/", "Dashboard"),
    ("learners", "/admin/learners?q=a", "Learners"),
    ("learner", "learner:ava", "Ava Lovelace"),
    ("bulk-award", "/admin/learners/bulk-award", "Bulk award"),
    ("circles", "/admin/circles", "Thrive Circles"),
    ("circle", "circle", None),
    ("jobs", "/admin/jobs", "Jobs"),
    ("api-keys", "/admin/api-keys", "API keys"),
    ("audit", "/admin/audit", "Audit log"),
]
MODES = {"laptop-light": (LAPTOP, "light"), "phone-dark": (PHONE, "dark")}


def _resolve(app, path: str) -> str:
    from sqlalchemy import select

    from thrive.models import Circle, Learner

    with app.app_context():
        if path.startswith("learner:"):
            target = f"/admin/learners/{db.session.scalar(select(Learner.id).where(Learner.username == path[8:]))}"
        elif path == "circle":
            target = f"/admin/circles/{db.session.scalar(select(Circle.id).order_by(Circle.id))}"
        else:
            target = path
        db.session.remove()
    return target


@layout_matrix_on_sqlite
@pytest.mark.parametrize("mode", list(MODES))
def test_admin_pages_are_accessible(app, new_page, admin_world, backend, mode):
    viewport, theme = MODES[mode]
    page = new_page(viewport=viewport, color_scheme=theme)
    staff_sign_in(page)
    # Some state worth checking: a created key (shown once), a dry run, a job run.
    page.goto("/admin/api-keys")
    page.get_by_label("Name").fill("LMS")
    page.get_by_role("button", name="Create key").click()
    expect(page.locator("#new-key")).to_be_visible()
    problems = _check(page, f"api key shown once ({mode})")
    page.goto("/admin/jobs")
    page.locator("form[action$='/jobs/create_goals/run'] button").click()
    expect(page.locator("#outcome")).to_contain_text("succeeded")
    problems += _check(page, f"job outcome ({mode})")
    page.goto("/admin/learners/bulk-award")
    page.get_by_label(re.compile("CSV file")).set_input_files(files=[{
        "name": "awards.csv", "mimeType": "text/csv",
        "buffer": b"username,activity_type,points,reason\nava,admin_adjustment,10,Helper\nnobody,event_attended,,x\n"}])
    page.get_by_role("button", name="Dry run").click()
    expect(page.locator("#bulk-rows")).to_contain_text("would award")
    problems += _check(page, f"bulk dry run ({mode})")
    for slug, path, heading in ADMIN_PAGES:
        target = _resolve(app, path)
        response = page.goto(target)
        assert response.status == 200, f"{target}: HTTP {response.status}"
        page.wait_for_load_state("networkidle")
        if heading:
            expect(page.locator("h1").first).to_contain_text(heading)
        screenshot(page, f"{backend}-{mode}-admin-{slug}")
        problems += _check(page, f"{target} ({mode})")
    assert not problems, "\n\n".join(problems)


def _check(page, where: str) -> list[str]:
    problems = []
    violations = axe_violations(page)
    if violations:
        problems.append(format_violations(where, violations))
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    if width[0] > width[1] + 1:
        problems.append(f"{where}: the page scrolls sideways ({width[0]} px wide in a {width[1]} px viewport)")
    if page.thrive_log.problems():
        problems.append(f"{where}: " + "; ".join(page.thrive_log.problems()))
        page.thrive_log.console_errors.clear()
        page.thrive_log.page_errors.clear()
        page.thrive_log.failed_requests.clear()
    return problems


@layout_matrix_on_sqlite
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_admin_nav_is_one_scrolling_row_on_a_phone(new_page, admin_world, backend, theme):
    """Issue 11: at 360 px the admin nav was ~300 px of wrapped rows. Now one row that scrolls sideways
    inside itself (the page does not), the current page's link scrolled into view, sign-out beside it."""
    page = new_page(viewport={"width": 360, "height": 740}, color_scheme=theme)
    staff_sign_in(page)
    page.goto("/admin/audit")  # the last link of the row
    nav = page.get_by_role("navigation", name="Admin")
    current = nav.get_by_role("link", name="Audit log")
    expect(current).to_have_attribute("aria-current", "page")
    geometry = page.evaluate("""() => {
        const header = document.querySelector('.site-header').getBoundingClientRect();
        const row = document.querySelector('.admin-nav ul');
        const items = [...row.querySelectorAll(':scope > li')];
        const tops = new Set(items.map(li => Math.round(li.getBoundingClientRect().top)));
        const link = row.querySelector('[aria-current="page"]').getBoundingClientRect();
        const box = row.getBoundingClientRect();
        const out = document.querySelector('.admin-nav .sign-out').getBoundingClientRect();
        return {header: header.height, rows: tops.size, scrolls: row.scrollWidth > row.clientWidth,
                linkInside: link.left >= box.left - 1 && link.right <= box.right + 1,
                signOutBeside: Math.abs(out.top + out.height / 2 - (box.top + box.height / 2)) < 12,
                overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth};
    }""")
    assert geometry["header"] <= 130, geometry
    assert geometry["rows"] == 1 and geometry["scrolls"] and geometry["linkInside"], geometry
    assert geometry["signOutBeside"] and geometry["overflow"] <= 0, geometry
    nav.get_by_role("link", name="Dashboard").focus()  # keyboard: a focused link is scrolled into view
    expect(nav.get_by_role("link", name="Dashboard")).to_be_in_viewport()
    screenshot(page, f"{backend}-admin-nav-phone-{theme}")
    assert not axe_violations(page), format_violations(f"admin nav on a phone ({theme})", axe_violations(page))
    assert not page.thrive_log.problems(), page.thrive_log.problems()
