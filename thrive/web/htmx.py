"""Small helpers for serving a page and its HTMX fragment from one URL (STYLE.md)."""
from __future__ import annotations

import json

from flask import make_response, render_template, request
from jinja2_fragments.flask import render_block


def is_htmx() -> bool:
    """True for an HTMX request that wants a fragment (not a boosted navigation)."""
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-Boosted") != "true"


def page_or_fragment(template: str, block: str, **context):
    """Render ``block`` of ``template`` alone for HTMX requests, else the whole page.

    Adds ``Vary: HX-Request`` since one URL serves both.
    """
    if is_htmx():
        body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    response = make_response(body)
    response.vary.add("HX-Request")
    return response


def with_points_toast(response, points: int, label: str | None = None):
    """Ask the page to show a "+N points" toast (§7) via the ``HX-Trigger`` event ``thrive:points``.

    ``points`` is the amount the learner's own action awarded; nothing is added when it is 0.
    """
    if points:
        events = json.loads(response.headers.get("HX-Trigger", "{}") or "{}")
        events["thrive:points"] = {"points": points, "label": label or ""}
        response.headers["HX-Trigger"] = json.dumps(events)
    return response
