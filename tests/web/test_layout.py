"""The learner layout (§7), security headers (§15) and login/HTMX behaviour of every learner page.

Also the non-competition rule (§1.3): a peer's distinctive point totals
never appear on any page or fragment these pages serve.
"""
from __future__ import annotations

import re

import pytest

from thrive.extensions import db
from thrive.services.points.award import award

#: Every page and fragment this area serves: (path, is a fragment-capable URL).
LEARNER_GETS = [
    "/", "/panels/status", "/panels/actions", "/panels/stats",
    "/journey", "/journey?days=7", "/journey?days=all", "/settings", "/notifications",
]
FRAGMENT_ONLY_GETS = ["/notifications/bell", "/celebrations/next"]
POSTS = ["/settings", "/notifications/read-all", "/notifications/1/read"]

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)


def _signed_in(client, auth, make_learner, **fields):
    learner = make_learner("learner", **fields)
    auth.login()
    return learner


@pytest.mark.parametrize("path", LEARNER_GETS + FRAGMENT_ONLY_GETS)
def test_anonymous_get_redirects_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    htmx = client.get(path, headers={"HX-Request": "true"})
    assert htmx.status_code == 200
    assert htmx.headers["HX-Redirect"].startswith("/login")
    assert htmx.get_data(as_text=True) == ""


@pytest.mark.parametrize("path", POSTS)
def test_anonymous_post_is_refused(client, auth, path):
    token = auth.csrf_token("/login")
    response = client.post(path, data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    htmx = client.post(path, data={"csrf_token": token}, headers={"HX-Request": "true"})
    assert htmx.headers["HX-Redirect"].startswith("/login")


def test_posts_require_csrf(client, auth, make_learner):
    _signed_in(client, auth, make_learner)
    for path in POSTS:
        assert client.post(path, data={}).status_code == 400, path


def test_security_headers_on_pages_and_fragments(client, auth, make_learner):
    _signed_in(client, auth, make_learner)
    for path, headers in [("/", {}), ("/panels/status", {"HX-Request": "true"}), ("/login", {}),
                          ("/journey", {}), ("/no-such-page", {})]:
        response = client.get(path, headers=headers)
        csp = response.headers["Content-Security-Policy"]
        directives = {d.split()[0]: d.split()[1:] for d in (p.strip() for p in csp.split(";")) if d}
        assert directives["script-src"] == ["'self'"], path
        assert "'unsafe-inline'" not in directives["script-src"] and "'unsafe-eval'" not in csp
        assert directives["frame-ancestors"] == ["'none'"]
        assert directives["object-src"] == ["'none'"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "same-origin"


def test_layout_header_nav_and_landmarks(app, client, auth, make_learner):
    learner = _signed_in(client, auth, make_learner)
    with app.app_context():
        award(learner.id, "special_event", event_key="t:1", points=300)  # Spark, level 5
        db.session.remove()
    html = client.get("/journey").get_data(as_text=True)
    assert '<a class="skip-link" href="#main">' in html
    assert '<main id="main"' in html and "<header" in html
    assert '<nav class="container site-nav" aria-label="Main">' in html
    for href, label in [("/", "Your Thrive Circle"), ("/community", "Community"), ("/journey", "My Journey"),
                        ("/settings", "Settings")]:
        assert f'href="{href}"' in html and label in html
    assert re.search(r'href="/journey" aria-current="page"', html)
    assert 'class="tier-chip tier-spark"' in html and "Your tier: Spark, level 5" in html
    assert 'id="bell"' in html and 'hx-trigger="every 30s"' in html
    assert 'id="toasts"' in html and 'aria-live="polite"' in html
    assert "data-theme-toggle" in html
    assert 'hx-headers=\'{"X-CSRFToken": "' in html
    assert '"allowEval": false' in html and '"includeIndicatorStyles": false' in html


def test_no_inline_scripts_anywhere(app, client, auth, make_learner):
    learner = _signed_in(client, auth, make_learner)
    with app.app_context():
        award(learner.id, "quiz_completed", event_key="t:q")
        db.session.remove()
    for path in LEARNER_GETS:
        html = client.get(path).get_data(as_text=True)
        assert not INLINE_SCRIPT.search(html), path
        assert not re.search(r"<[^>]*\son[a-z]+\s*=", html), path  # no inline event handlers


def test_theme_cookie_sets_data_theme(client, auth, make_learner):
    _signed_in(client, auth, make_learner)
    assert "data-theme=" not in client.get("/").get_data(as_text=True)[:200]  # OS preference applies
    client.set_cookie("thrive_theme", "dark")
    assert '<html lang="en" data-theme="dark">' in client.get("/").get_data(as_text=True)
    client.set_cookie("thrive_theme", "evil\" onload=\"x")
    assert "data-theme=" not in client.get("/").get_data(as_text=True)[:200]


def test_daily_visit_toast_on_page_and_htmx_trigger(app, client, auth, make_learner):
    _signed_in(client, auth, make_learner)
    first = client.get("/").get_data(as_text=True)
    assert '<p class="toast" data-toast>+5 points · daily visit</p>' in first
    assert 'class="toast"' not in client.get("/").get_data(as_text=True)
    # A new local day: the first request is an HTMX poll; it announces the toast through HX-Trigger.
    with client.session_transaction() as session:
        session["daily_login"] = "2000-01-01"
    with app.app_context():
        from thrive.models import LedgerEntry

        db.session.query(LedgerEntry).delete()
        db.session.commit()
    poll = client.get("/panels/status", headers={"HX-Request": "true"})
    assert '"thrive:points": {"points": 5, "label": "daily visit"}' in poll.headers["HX-Trigger"]


def test_anonymous_layout_has_no_learner_header(client):
    html = client.get("/login").get_data(as_text=True)
    assert 'id="bell"' not in html and "tier-chip" not in html and "Sign in" in html


def _strip_tokens(html: str) -> str:
    html = re.sub(r'value="[^"]{40,}"', "", html)
    html = re.sub(r'"X-CSRFToken": "[^"]+"', "", html)
    return re.sub(r'datetime="[^"]+"', "", html)


def test_no_peer_points_on_any_page_or_fragment(app, client, auth, make_learner):
    """§1.3: a learner never sees another learner's point amounts."""
    me = _signed_in(client, auth, make_learner)
    peers = [make_learner("peer_a", display_name="Peer A", topics=["Python"]),
             make_learner("peer_b", display_name="Peer B", topics=["Python"])]
    with app.app_context():
        award(peers[0].id, "admin_adjustment", event_key="t:pa", points=7777, description="seed")
        award(peers[1].id, "admin_adjustment", event_key="t:pb", points=4321, description="seed")
        award(me.id, "quiz_completed", event_key="t:me")
        db.session.remove()
    forbidden = re.compile(r"(?<![\w.-])(7,?777|4,?321)(?![\w-])")
    for path in LEARNER_GETS + FRAGMENT_ONLY_GETS:
        for headers in ({}, {"HX-Request": "true"}, {"HX-Request": "true", "HX-Target": "ledger"}):
            response = client.get(path, headers=headers, follow_redirects=True)
            body = _strip_tokens(response.get_data(as_text=True))
            assert not forbidden.search(body), (path, headers)
