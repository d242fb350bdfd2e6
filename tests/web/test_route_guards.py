"""Every route is guarded, driven by ``app.url_map`` so that new routes are covered automatically (§15).

- Every route that is not explicitly public needs a signed-in browser session (redirect to sign-in), or for
  the integration API an API key (401 JSON).
- Every state-changing browser route (POST/PUT/PATCH/DELETE outside ``/api/``) refuses a request without a
  CSRF token (400), even from a signed-in learner.

A new public route must be added to ``PUBLIC`` here, deliberately.
"""
from __future__ import annotations

import pytest
from werkzeug.routing import Rule

from tests.conftest import csrf_token_from

#: Endpoints anyone may reach without signing in.
PUBLIC = {
    "static", "auth.login", "auth.register", "api.openapi_document",
    # the doors in from the learning platform (issue 13): they sign people in, so they cannot require it
    "auth.oidc_login", "auth.oidc_callback", "auth.sign_in_link",
    # probes for the load balancer and orchestrator (issue 12): they reveal nothing but up/ready
    "ops.healthz", "ops.readyz",
    "favicon",  # browsers ask for /favicon.ico on every page, signed in or not (issue 11)
}
#: Endpoints guarded by their own token instead of a session (issue 12: Prometheus scrapes /metrics).
TOKEN_GUARDED = {"ops.metrics"}
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
#: What the CSRF error handler tells a browser (thrive/web/hooks.py).
CSRF_REFUSAL = "Your form expired"


def _url(rule: Rule) -> str:
    values = {}
    for arg in rule.arguments:
        converter = type(rule._converters[arg]).__name__.replace("Converter", "").lower()  # noqa: SLF001
        values[arg] = {"integer": "1", "unicode": "someone", "path": "x/y", "any": "x"}.get(converter, "someone")
    url = rule.rule
    for arg, value in values.items():
        url = url.replace(f"<{arg}>", value)
        for conv in ("int", "string", "path", "float", "any"):
            url = url.replace(f"<{conv}:{arg}>", value)
    return url


def _routes(app) -> list[tuple[str, str, str]]:
    out = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.append((rule.endpoint, method, _url(rule)))
    return out


def test_the_route_table_is_not_empty(app):
    routes = _routes(app)
    assert len(routes) > 30 and any(e == "settings.save" for e, _m, _u in routes)


def test_every_non_public_route_needs_sign_in(app, client):
    checked = 0
    for endpoint, method, url in _routes(app):
        if endpoint in PUBLIC:
            continue
        if endpoint in TOKEN_GUARDED:
            assert client.open(url, method=method).status_code in (401, 403, 404), (endpoint, url)
            continue
        response = client.open(url, method=method, json={} if url.startswith("/api/") else None)
        if url.startswith("/api/"):
            assert response.status_code == 401, (endpoint, method, url, response.status_code)
            assert response.get_json()["error"]["code"], (endpoint, url)
        else:
            # anonymous: redirected to sign-in (a POST without a session may be refused by CSRF first: 400)
            assert response.status_code in (302, 400), (endpoint, method, url, response.status_code)
            if response.status_code == 302:
                assert "/login" in response.headers["Location"], (endpoint, url, response.headers["Location"])
        checked += 1
    assert checked > 25


@pytest.fixture
def signed_in(client, auth, make_learner):
    make_learner("guard", password="password123")
    assert auth.login("guard").status_code == 302
    return client


def test_every_state_changing_browser_route_needs_a_csrf_token(app, signed_in, auth):
    client = signed_in
    token = csrf_token_from(client.get("/settings").get_data(as_text=True))
    checked = 0
    last = {"settings.sign_out_everywhere": 1, "auth.logout": 2}  # the sign-out routes run last
    routes = sorted(_routes(app), key=lambda r: last.get(r[0], 0))
    for endpoint, method, url in routes:
        if method not in STATE_CHANGING or url.startswith("/api/") or endpoint == "static":
            continue
        without = client.open(url, method=method, data={"anything": "1"})
        assert without.status_code == 400, (endpoint, method, url, without.status_code)
        assert CSRF_REFUSAL in without.get_data(as_text=True), (endpoint, url)
        # and the same request with the token is not refused for CSRF (whatever the route then answers)
        with_token = client.open(url, method=method, data={"csrf_token": token},
                                 headers={"X-CSRFToken": token})
        assert CSRF_REFUSAL not in with_token.get_data(as_text=True), (endpoint, url)
        checked += 1
        if endpoint == "settings.sign_out_everywhere":  # it signed us out: sign in again for the rest
            assert auth.login("guard").status_code == 302
            token = csrf_token_from(client.get("/settings").get_data(as_text=True))
    assert checked >= 8
