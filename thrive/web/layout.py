"""The layout's navigation links, rendered once per language, section and sign-in state (§7, issue 12).

Every full page carries the same dozen links and labels; only the language, which section is current
(``aria-current``) and whether the reader is signed in change them. :func:`site_nav` renders
``templates/_site_nav.html`` once per such combination (and script root, for an app mounted under a prefix)
and keeps the markup per app; the layout asks for it on every page. The sign-out form, which carries the
session's CSRF token, stays in the layout.
"""
from __future__ import annotations

import threading

from cachetools import LRUCache
from flask import Flask, current_app, request
from markupsafe import Markup

from .i18n import request_locale

#: ``(section, exact paths, path prefixes)`` in the order they are tried: the section a path belongs to.
SECTIONS: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("home", ("/",), ("/panels",)),
    ("community", (), ("/community", "/u/")),
    ("quests", (), ("/quests",)),
    ("achievements", (), ("/achievements",)),
    ("journey", (), ("/journey",)),
    ("settings", (), ("/settings",)),
    ("login", (), ("/login",)),
    ("register", (), ("/register",)),
)
TEMPLATE = "_site_nav.html"
_CACHE_KEY = "thrive_site_nav"


def nav_section(path: str) -> str | None:
    """The key of the navigation section ``path`` (a request path) belongs to, or None."""
    for key, exact, prefixes in SECTIONS:
        if path in exact or path.startswith(prefixes):
            return key
    return None


class _NavCache:
    def __init__(self, maxsize: int = 256):
        self.lru: LRUCache[tuple, Markup] = LRUCache(maxsize)
        self.lock = threading.Lock()


def site_nav(signed_in: bool, local_sign_in: bool) -> Markup:
    """The ``<ul>`` of the layout's navigation for this request: ``signed_in`` shows the learner's tabs, else
    "Sign in" (and "Join" when ``local_sign_in``); the current section is marked ``aria-current="page"``."""
    signed_in, local_sign_in = bool(signed_in), bool(local_sign_in)
    active = nav_section(request.path)
    key = (str(request_locale()), request.script_root, active, signed_in, local_sign_in)
    cache: _NavCache = current_app.extensions[_CACHE_KEY]
    with cache.lock:
        markup = cache.lru.get(key)
    if markup is None:
        markup = Markup(current_app.jinja_env.get_template(TEMPLATE).render(
            signed_in=signed_in, active=active, local_sign_in=local_sign_in))
        with cache.lock:
            cache.lru[key] = markup
    return markup


def init_app(app: Flask) -> None:
    """Give the templates ``site_nav`` (with its per-app cache)."""
    app.extensions[_CACHE_KEY] = _NavCache()
    app.jinja_env.globals["site_nav"] = site_nav
