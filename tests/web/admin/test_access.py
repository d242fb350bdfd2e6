"""Access to the admin area (§11, §15), driven by ``app.url_map``: every /admin route is guarded."""
from __future__ import annotations

import re

import pytest

from thrive.web.admin.nav import MODERATOR_ENDPOINTS


def admin_routes(app) -> list[tuple[str, str, str]]:
    """(endpoint, method, concrete URL) for every /admin rule, with path arguments filled with 1."""
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin"):
            continue
        url = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", "1", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            routes.append((rule.endpoint, method, url))
    return routes


def test_the_admin_area_has_routes(app):
    endpoints = {e for e, _m, _u in admin_routes(app)}
    assert {"admin.index", "admin.learners", "admin.learner", "admin.jobs", "admin.circles",
            "admin.api_keys", "admin.audit"} <= endpoints


def test_anonymous_visitors_are_sent_to_sign_in(app, client, auth):
    token = auth.csrf_token("/login")  # an anonymous session's valid token: the guard, not CSRF, answers
    for endpoint, method, url in admin_routes(app):
        response = client.open(url, method=method, data={"csrf_token": token})
        assert response.status_code == 302, (endpoint, method, response.status_code)
        assert "/login" in response.headers["Location"], endpoint


def test_anonymous_htmx_requests_get_hx_redirect(app, client):
    response = client.get("/admin/", headers={"HX-Request": "true"})
    assert response.headers.get("HX-Redirect", "").startswith("/login")


def test_learners_get_403_everywhere(app, client, auth, make_learner):
    make_learner("ada")
    auth.login("ada")
    token = auth.csrf_token("/settings")
    for endpoint, method, url in admin_routes(app):
        response = client.open(url, method=method, data={"csrf_token": token})
        assert response.status_code == 403, (endpoint, method, response.status_code)


def test_moderators_reach_only_their_allow_list(app, client, auth, make_learner, moderator_user):
    make_learner("ada")
    auth.login("mod")
    token = auth.csrf_token("/settings")
    for endpoint, method, url in admin_routes(app):
        response = client.open(url, method=method, data={"csrf_token": token})
        if method in MODERATOR_ENDPOINTS.get(endpoint, ()):
            assert response.status_code != 403, (endpoint, method)
        else:
            assert response.status_code == 403, (endpoint, method, response.status_code)
    assert client.get("/admin/learners").status_code == 200


def test_moderators_cannot_change_learners(app, client, auth, moderator_user, make_learner):
    ada = make_learner("ada")
    auth.login("mod")
    token = auth.csrf_token("/settings")
    assert client.get(f"/admin/learners/{ada.id}").status_code == 200
    for action in ("adjust", "deactivate", "reactivate", "staff-role"):
        response = client.post(f"/admin/learners/{ada.id}/{action}", data={"csrf_token": token})
        assert response.status_code in (403, 404, 405), action


def test_admins_reach_every_page(app, as_admin):
    with_args = {r.endpoint for r in app.url_map.iter_rules() if r.arguments}
    for endpoint, method, url in admin_routes(app):
        if method != "GET" or endpoint in with_args:
            continue
        response = as_admin.get(url)
        assert response.status_code == 200, (endpoint, response.status_code)


@pytest.mark.parametrize("path", ["/admin/", "/admin/learners", "/admin/audit"])
def test_admin_pages_carry_the_csp_and_the_htmx_csrf_header(as_admin, path):
    response = as_admin.get(path)
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert 'hx-headers=\'{"X-CSRFToken": "' in response.get_data(as_text=True)


def test_signing_in_as_staff_lands_in_the_admin_area(client, auth, admin_user):
    response = auth.login("boss")
    assert response.headers["Location"].endswith("/admin/")
    assert client.get("/").headers["Location"].endswith("/admin/")


def test_a_staff_member_flagged_as_learner_lands_on_the_learner_home(client, auth, make_learner):
    make_learner("teacher", staff_role="moderator", is_learner=True)
    response = auth.login("teacher")
    assert response.headers["Location"] == "/"


def test_admin_navigation_lists_sections_by_role(as_admin, client):
    html = as_admin.get("/admin/").get_data(as_text=True)
    for label in ("Dashboard", "Learners", "Circles", "Jobs", "API keys", "Audit log"):
        assert f">{label}</a>" in html


def test_moderators_land_on_their_first_section(client, auth, moderator_user):
    response = auth.login("mod")
    assert response.headers["Location"].endswith("/admin/")
    response = client.get("/admin/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/learners")
