"""Lighthouse (issue 11): accessibility, best practices and SEO ≥ 0.95 on home, community and journey.

A small demo community (``build_demo``: the ``demo`` learner among synthetic ones, weeks of
activity, circles, quests, notifications) is served by the browser tests' live server; the
``demo`` learner signs in through the login form and Lighthouse (npm, pinned; Debian's
Chromium; its default mobile form factor) audits each page with that session. These three
categories do not depend on timing; performance does, so ``benchmarks/bench_lighthouse.py``
reports it instead of a test asserting it.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.conftest import once_on_heavy_backend

from .lighthouse import category_scores, failing_audits, missing_tools, run_lighthouse, session_cookie

pytestmark = [pytest.mark.browser, once_on_heavy_backend]

PAGES = ["/", "/community", "/journey"]
CATEGORIES = ["accessibility", "best-practices", "seo"]
MINIMUM = 0.95


@pytest.fixture
def demo_community(app):
    """A small demo community built as ``flask thrive demo`` builds it (fewer learners and weeks)."""
    from thrive.extensions import db
    from thrive.services.ingest.demo import build_demo
    from thrive.timeutil import utcnow

    with app.app_context():
        build_demo(learners=30, weeks=2, seed=2026, now=utcnow() - timedelta(minutes=5))
        db.session.remove()


def test_lighthouse_accessibility_best_practices_seo(demo_community, live_server):
    problem = missing_tools()
    if problem:
        pytest.skip(problem)
    from thrive.services.ingest.demo import DEMO_PASSWORD, DEMO_USERNAME

    cookie = session_cookie(live_server, DEMO_USERNAME, DEMO_PASSWORD)
    failures, seen = [], []
    for path in PAGES:
        report = run_lighthouse(live_server + path, CATEGORIES, cookie=cookie)
        scores = category_scores(report)
        seen.append(f"{path}: {scores}")
        for category in CATEGORIES:
            score = scores.get(category)
            if score is None or score < MINIMUM:
                failures.append(f"{path} {category} = {score} (< {MINIMUM}); failing audits:")
                failures.extend(f"    {line}" for line in failing_audits(report, category))
    print(f"Lighthouse {datetime.now():%H:%M}:", *seen, sep="\n  ")
    assert not failures, "\n".join(failures)
