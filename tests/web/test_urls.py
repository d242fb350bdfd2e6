"""Templates' caching ``url_for`` (thrive.web.urls, issue 12): the same URLs as Flask's, mount prefix included."""
from __future__ import annotations

import pytest
from flask import render_template_string, url_for

from thrive.web.urls import CachedUrls

CASES = [
    ("static", {"filename": "css/thrive.css"}),
    ("static", {"filename": "vendor/pico/pico.min.css"}),
    ("home.index", {}),
    ("home.status_panel", {}),
    ("community.profile", {"username": "ana"}),
    ("home.points", {"_anchor": "rule-quiz_completed"}),
    ("static", {"filename": "img/favicon.svg", "_external": True}),
    ("community.index", {"_external": True}),
]


@pytest.mark.parametrize("script_root", ["", "/thrive"])
def test_same_urls_as_flask_under_any_mount_prefix(app, script_root):
    cached = CachedUrls()
    for _ in range(2):  # the second round answers from the cache
        with app.test_request_context("/", base_url=f"http://localhost{script_root}/"):
            for endpoint, values in CASES:
                assert cached.url_for(endpoint, **values) == url_for(endpoint, **values)
                if not values.get("_external"):
                    assert cached.url_for(endpoint, **values).startswith(script_root + "/")


def test_a_prefix_never_leaks_into_another_requests_urls(app):
    cached = CachedUrls()
    with app.test_request_context("/", base_url="http://localhost/a/"):
        assert cached.url_for("static", filename="css/thrive.css") == "/a/static/css/thrive.css"
    with app.test_request_context("/"):
        assert cached.url_for("static", filename="css/thrive.css") == "/static/css/thrive.css"
        assert cached.url_for("home.index") == "/"


def test_the_cache_is_bounded(app):
    cached = CachedUrls(maxsize=4)
    with app.test_request_context("/"):
        for n in range(20):
            assert cached.url_for("static", filename=f"f{n}.css") == f"/static/f{n}.css"
    assert len(cached._lru) == 4


def test_templates_use_it_and_outside_a_request_flask_answers(app):
    with app.test_request_context("/", base_url="http://localhost/x/"):
        assert render_template_string("{{ url_for('static', filename='js/thrive.js') }}") == "/x/static/js/thrive.js"
    with app.app_context(), pytest.raises(RuntimeError):  # Flask's own answer outside a request: no SERVER_NAME
        render_template_string("{{ url_for('home.index') }}")
