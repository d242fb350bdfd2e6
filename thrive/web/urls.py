"""``url_for`` for templates, remembering URLs that take no values but a static file's name (issue 12).

A learner page builds ~20 URLs that are the same on every request — the stylesheets, scripts and icons under
``static/``, the navigation, the panels' polling URLs — and each ``url_for`` walks werkzeug's URL map (~8 µs).
Templates' ``url_for`` answers those from a bounded per-app cache keyed by the request's script root (the
prefix the app is mounted under), the endpoint and the static file's name. Everything else — URLs with
values, ``_external``/``_anchor``/``_method``/``_scheme``, blueprint-relative endpoints (``.index``) — goes to
Flask's ``url_for`` as before, and so does a template rendered outside a request. Thrive registers no
``url_defaults``/``url_value_preprocessor`` that could make such a URL differ between requests.
"""
from __future__ import annotations

import threading

from cachetools import LRUCache
from flask import Flask, has_request_context, request
from flask import url_for as flask_url_for

#: URLs kept per app: the endpoints without values plus the static files a page links, times mount prefixes.
MAX_CACHED = 512


class CachedUrls:
    """A thread-safe bounded map (script root, endpoint, static file name or None) → URL (str)."""

    def __init__(self, maxsize: int = MAX_CACHED):
        self._lru: LRUCache[tuple, str] = LRUCache(maxsize)
        self._lock = threading.Lock()

    def url_for(self, endpoint: str, **values) -> str:
        """``flask.url_for(endpoint, **values)``, from the cache when it is a URL that never changes."""
        only_a_file = endpoint == "static" and len(values) == 1 and isinstance(values.get("filename"), str)
        if endpoint.startswith(".") or (values and not only_a_file) or not has_request_context():
            return flask_url_for(endpoint, **values)
        key = (request.script_root, endpoint, values.get("filename"))
        with self._lock:
            url = self._lru.get(key)
        if url is None:
            url = flask_url_for(endpoint, **values)
            with self._lock:
                self._lru[key] = url
        return url


def init_app(app: Flask) -> None:
    """Give the app's templates the caching ``url_for`` (Python code keeps calling Flask's)."""
    app.jinja_env.globals["url_for"] = CachedUrls().url_for
