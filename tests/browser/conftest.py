"""Real-browser fixtures: Debian's Chromium driven by Playwright against a live Thrive server.

- ``live_server``: the seeded test ``app`` (fresh SQLite file, and PostgreSQL
  when ``THRIVE_TEST_DATABASE_URL`` is set — the same ``database_url``
  fixtures as the rest of the suite) served by werkzeug's threaded server on
  a free port of 127.0.0.1, for the duration of one test.
- ``browser``: one headless Chromium per test session (``/usr/bin/chromium``,
  never a Playwright-downloaded build). The tests are skipped with a clear
  reason when that binary is absent.
- ``new_page(viewport=…, color_scheme=…)``: a page in a fresh browser
  context (its own cookies — a second learner's session is a second call).
  Every page records console errors, failed requests and uncaught
  exceptions, so a test can assert the page ran cleanly under the CSP.
- helpers: :func:`sign_in`, :func:`screenshot` (PNG files under
  ``test-artifacts/screenshots/``), :func:`axe_violations` (axe-core from
  npm, injected from the app's own ``static/vendor/axe/axe.min.js``).
"""
from __future__ import annotations

import json
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("THRIVE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
    "--no-first-run", "--disable-component-update", "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
AXE_PATH = ROOT / "static" / "vendor" / "axe" / "axe.min.js"
PASSWORD = "password123"

LAPTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def app_config(database_url) -> dict:
    """Test config for browser runs: a generous sign-in rate limit (several sessions per test)."""
    return {"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "test-secret-key",
            "THRIVE_LOGIN_RATE_LIMIT": "1000 per minute"}


@pytest.fixture
def backend(request) -> str:
    """``"sqlite"`` or ``"postgresql"``: the database this test runs on (for artifact names)."""
    callspec = getattr(request.node, "callspec", None)
    return callspec.params.get("database_url", "sqlite") if callspec else "sqlite"


@pytest.fixture
def live_server(app) -> str:
    """Serve ``app`` on 127.0.0.1:<free port> in a thread; yield its base URL (no trailing slash)."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="thrive-live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser():
    """One headless Debian Chromium for the whole session (skips when it is not installed)."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"{CHROMIUM} not found: install Debian's chromium package (apt-get install chromium) "
                    "to run the browser tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class PageLog:
    """What went wrong while a page ran: console errors, uncaught exceptions, failed requests."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        return self.console_errors + self.page_errors + self.failed_requests


@pytest.fixture
def new_page(browser, live_server):
    """Factory ``new_page(viewport=LAPTOP, color_scheme="light") -> Page`` in a fresh context.

    The page's ``base_url`` is the live server, so ``page.goto("/community")``
    works; ``page.thrive_log`` is its :class:`PageLog`.
    """
    contexts = []

    def factory(viewport: dict | None = None, color_scheme: str = "light"):
        context = browser.new_context(base_url=live_server, viewport=viewport or LAPTOP,
                                      color_scheme=color_scheme, locale="en-GB", timezone_id="UTC")
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        log = PageLog()
        # "Failed to load resource" console lines carry no URL: HTTP errors are logged from responses
        # instead (the browser's own /favicon.ico probe is not the page's doing).
        page.on("console", lambda msg: log.console_errors.append(f"console {msg.type}: {msg.text}")
                if msg.type == "error" and not msg.text.startswith("Failed to load resource") else None)
        page.on("response", lambda resp: log.failed_requests.append(
            f"HTTP {resp.status}: {resp.request.method} {resp.url}")
                if resp.status >= 400 and not resp.url.endswith("/favicon.ico") else None)
        page.on("pageerror", lambda exc: log.page_errors.append(f"uncaught: {exc}"))
        page.on("requestfailed", lambda req: log.failed_requests.append(
            f"request failed: {req.method} {req.url} ({req.failure})"))
        page.thrive_log = log
        return page

    yield factory
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    """A laptop-sized page in a fresh browser context."""
    return new_page()


def sign_in(page, username: str, password: str = PASSWORD) -> None:
    """Sign in through the real form and wait for the home page ("Your Thrive Circle")."""
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/$"))
    page.get_by_role("heading", name="Your Thrive Circle", level=1).wait_for()


def screenshot(page, name: str) -> Path:
    """Save a full-page PNG of ``page`` as ``test-artifacts/screenshots/<name>.png``; return its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


#: axe-core rule tags checked: WCAG 2.0/2.1/2.2 A and AA plus axe's best practices.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def axe_violations(page, impacts: tuple[str, ...] = ("serious", "critical")) -> list[dict]:
    """Run axe-core on the current page; return its violations with an impact in ``impacts``.

    axe is loaded from the app's own static files (``/static/vendor/axe/axe.min.js``),
    so the page's Content-Security-Policy (``script-src 'self'``) stays on.
    """
    if not AXE_PATH.exists():
        pytest.fail(f"{AXE_PATH} is missing: run `make setup` (npm ci + scripts/copy_vendor.py)")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(url="/static/vendor/axe/axe.min.js")
    result = page.evaluate(
        """async (tags) => {
            const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                nodes: v.nodes.map(n => ({target: n.target, html: n.html, summary: n.failureSummary}))}));
        }""",
        AXE_TAGS,
    )
    return [v for v in result if v["impact"] in impacts]


def format_violations(where: str, violations: list[dict]) -> str:
    """A readable report of axe violations (rule, impact, help link, offending elements)."""
    lines = [f"{len(violations)} serious/critical accessibility violation(s) on {where}:"]
    for v in violations:
        lines.append(f"- [{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"][:5]:
            lines.append(f"    at {json.dumps(node['target'])}: {node['html'][:200]}")
            lines.append("      " + (node["summary"] or "").replace("\n", "\n      "))
        if len(v["nodes"]) > 5:
            lines.append(f"    … and {len(v['nodes']) - 5} more element(s)")
    return "\n".join(lines)


@dataclass
class Community:
    """Learners and feed items made by :func:`populate` (ids of ledger entries / progression events)."""

    ids: dict[str, int]
    sam_quiz: int
    sam_project: int
    sam_phoenix: int
    kim_feedback: int
    lee_quiz: int
    #: point totals that must never be shown to anyone but their owner (§1.3)
    secret_totals: tuple[str, ...] = ("7,777", "7777", "4,321", "4321")


def populate(app) -> Community:
    """A small community, written through ``award()`` (the only way points change).

    - ``ava`` (Ava Lovelace, ext-ava): the viewer; a quiz, a comment and a
      special event that took her to Spark (her celebrations are already
      shown, so no modal gets in the way).
    - ``sam`` (Sam Carter): shares everything; a total of exactly 7,777 points
      (mostly an admin adjustment, which feeds never show), reached Phoenix;
      a quiz on Prompt Engineering and a project in the last hour.
    - ``kim``: does not share her profile ("A learner"); 4,321 points; peer feedback.
    - ``lee``: does not share activities; a quiz on "Secret Topic".
    All passwords are ``password123``.
    """
    from datetime import timedelta

    from thrive.extensions import db
    from thrive.services.accounts.learners import create_learner
    from thrive.services.notifications.celebrations import claim_pending
    from thrive.services.points.award import award
    from thrive.timeutil import utcnow

    now = utcnow()
    with app.app_context():
        people = {
            "ava": create_learner("ava", "Ava Lovelace", password=PASSWORD, external_id="ext-ava", topics=["Python"]),
            "sam": create_learner("sam", "Sam Carter", password=PASSWORD, external_id="ext-sam",
                                  topics=["Prompt Engineering", "Python"]),
            "kim": create_learner("kim", "Kim Private", password=PASSWORD, share_profile=False, topics=["Python"]),
            "lee": create_learner("lee", "Lee Quiet", password=PASSWORD, share_activities=False, topics=["SQL"]),
        }
        ids = {name: learner.id for name, learner in people.items()}

        def give(who, activity_type, ago, **kw):
            return award(ids[who], activity_type, event_key=f"browser:{who}:{activity_type}:{ago}",
                         occurred_at=now - ago, **kw).event_id

        give("kim", "admin_adjustment", timedelta(hours=4), points=4311, description="points from the old platform")
        give("sam", "admin_adjustment", timedelta(hours=3), points=7732, description="points from the old platform")
        give("ava", "special_event", timedelta(hours=2), points=300, metadata={"topic": "Hackathon"})
        give("ava", "quiz_completed", timedelta(hours=1), metadata={"topic": "Python", "difficulty": "beginner"})
        give("ava", "comment_posted", timedelta(minutes=50), metadata={"topic": "Python"})
        kim_feedback = give("kim", "feedback_given", timedelta(minutes=30), metadata={"topic": "Data Viz"})
        sam_project = give("sam", "project_created", timedelta(minutes=20), metadata={"topic": "Chatbots"})
        lee_quiz = give("lee", "quiz_completed", timedelta(minutes=15), metadata={"topic": "Secret Topic"})
        sam_quiz = give("sam", "quiz_completed", timedelta(minutes=10),
                        metadata={"topic": "Prompt Engineering", "difficulty": "intermediate"})
        from sqlalchemy import select

        from thrive.models import ProgressionEvent

        sam_phoenix = db.session.scalar(select(ProgressionEvent.id).where(
            ProgressionEvent.learner_id == ids["sam"], ProgressionEvent.kind == "tier_up",
            ProgressionEvent.to_value == "phoenix"))
        claim_pending(ids["ava"])
        db.session.commit()
        db.session.remove()
    return Community(ids, sam_quiz, sam_project, sam_phoenix, kim_feedback, lee_quiz)


@pytest.fixture
def community(app) -> Community:
    """The :func:`populate` community on this test's database."""
    return populate(app)
