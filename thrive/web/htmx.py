"""Small helpers for serving a page and its HTMX fragment from one URL (STYLE.md)."""
from __future__ import annotations

import json

from flask import make_response, render_template, request
from jinja2_fragments.flask import render_block


def is_htmx() -> bool:
    """True for an HTMX request that wants a fragment (not a boosted navigation)."""
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-Boosted") != "true"


def page_or_fragment(template: str, block: str, *, fragment_template: str | None = None, extra: str = "",
                     **context):
    """THE helper for one URL serving a page and its HTMX fragment (STYLE.md): every view uses it.

    For an HTMX request (not boosted) renders ``block`` alone — from
    ``fragment_template`` when the block lives in an included partial, else
    from ``template`` — followed by ``extra`` (out-of-band swaps); otherwise
    the whole page ``template``. Always adds ``Vary: HX-Request``. Views never
    branch on DOM ids (``HX-Target``): a fragment has its own URL.
    """
    if is_htmx():
        body = render_block(fragment_template or template, block, **context) + extra
    else:
        body = render_template(template, **context)
    response = make_response(body)
    response.vary.add("HX-Request")
    return response


def page_arg(source=None, name: str = "page") -> int:
    """The 1-based page number from ``source`` (request args or form; default ``request.args``).

    The one way page parameters are parsed: missing → 1; not a whole number or
    below 1 → ``ValidationError`` (a clear 400, never a 500).
    """
    from .params import MAX_PAGE, parse_int

    raw = (request.args if source is None else source).get(name)
    # ASCII digits only, bounded (issue 10: "٣" or 2**70 are a clear 400, not a 500)
    return parse_int(raw, name, default=1, maximum=MAX_PAGE, code="invalid_page")


def with_points_toast(response, points: int, label: str | None = None):
    """Ask the page to show a "+N points" toast (§7) via the ``HX-Trigger`` event ``thrive:points``.

    ``points`` is the amount the learner's own action awarded; nothing is added when it is 0.
    """
    if points:
        events = json.loads(response.headers.get("HX-Trigger", "{}") or "{}")
        events["thrive:points"] = {"points": points, "label": label or ""}
        response.headers["HX-Trigger"] = json.dumps(events)
    return response
