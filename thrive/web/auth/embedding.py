"""Embedding Thrive's pages in the learning platform's own (issue 13 item 4).

``THRIVE_FRAME_ANCESTORS`` is a space-separated allow-list of CSP
``frame-ancestors`` sources (``https://learn.example.org``,
``https://*.example.org``, ``'self'``). Empty (the default) keeps
``frame-ancestors 'none'`` and ``X-Frame-Options: DENY``. When set, the
session and remember-me cookies become ``SameSite=None; Secure``: a page in a
third-party frame only receives cookies marked so (which in turn needs HTTPS).
"""
from __future__ import annotations

import re

from flask import Flask

#: One allowed source: 'self', or scheme://host[:port] with an optional leading "*." wildcard label.
SOURCE_RE = re.compile(r"^(?:'self'|https?://(?:\*\.)?[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*(?::(?:\d{1,5}|\*))?)$")


def parse_frame_ancestors(value: str | None) -> str:
    """The normalised allow-list (sources joined by one space), "" for none.

    Raises ``ValueError`` naming the first source that is not 'self' or an
    http(s) origin (a quote, semicolon or path could rewrite the policy).
    """
    sources = (value or "").split()
    if sources in ([], ["'none'"]):
        return ""
    for source in sources:
        if not SOURCE_RE.match(source):
            raise ValueError(f"THRIVE_FRAME_ANCESTORS: {source!r} is not 'self' or an origin such as "
                             "https://learn.example.org")
    return " ".join(sources)


def init_app(app: Flask) -> None:
    """Validate ``THRIVE_FRAME_ANCESTORS`` and set the cookie attributes embedding needs."""
    ancestors = parse_frame_ancestors(app.config.get("THRIVE_FRAME_ANCESTORS"))
    app.config["THRIVE_FRAME_ANCESTORS"] = ancestors
    if ancestors:
        for prefix in ("SESSION_COOKIE", "REMEMBER_COOKIE"):
            app.config[f"{prefix}_SAMESITE"] = "None"
            app.config[f"{prefix}_SECURE"] = True
