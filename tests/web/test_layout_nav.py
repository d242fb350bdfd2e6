"""The layout's navigation, rendered once per language, section and sign-in state (thrive/web/layout.py)."""
from __future__ import annotations

import re

import pytest

from thrive.web.layout import nav_section

TABS = {"home": "/", "community": "/community", "quests": "/quests", "achievements": "/achievements",
        "journey": "/journey", "settings": "/settings"}


@pytest.mark.parametrize(("path", "section"), [
    ("/", "home"), ("/panels/status", "home"), ("/points", None), ("/community/feed", "community"),
    ("/u/ana", "community"), ("/quests/3", "quests"), ("/achievements", "achievements"), ("/journey", "journey"),
    ("/settings/privacy", "settings"), ("/login", "login"), ("/register", "register"), ("/notifications", None),
])
def test_nav_section(path, section):
    assert nav_section(path) == section


def _current(html: str) -> list[str]:
    nav = html[html.index('<nav class="container site-nav"'):html.index("</nav>")]
    return re.findall(r'<a href="([^"]+)" aria-current="page"', nav)


def test_each_tab_is_current_on_its_own_pages_in_each_language(client, auth, make_learner):
    make_learner("learner")
    assert auth.login().status_code == 302
    for section, path in TABS.items():
        html = client.get(path).get_data(as_text=True)
        assert _current(html) == [path], section
        assert "Your Thrive Circle" in html and "Sign out" in html
    assert _current(client.get("/notifications").get_data(as_text=True)) == []
    spanish = client.get("/community", headers={"Accept-Language": "es"}).get_data(as_text=True)
    english = client.get("/community", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'lang="es"' in spanish  # the learner has no language setting: the browser's decides
    nav = spanish[spanish.index('<nav class="container site-nav"'):spanish.index("</nav>")]
    assert "Comunidad" in nav and ">Community<" not in nav
    assert _current(spanish) == ["/community"]
    assert 'lang="en"' in english and "Community" in english


def test_signed_out_nav(app, client):
    login = client.get("/login").get_data(as_text=True)
    assert _current(login) == ["/login"]
    assert ('href="/register"' in login) is bool(app.config["THRIVE_LOCAL_ACCOUNTS"])
    assert "Sign out" not in login and 'href="/community"' not in login
