"""Small helpers for serving a page and its HTMX fragment from one URL (STYLE.md)."""
from __future__ import annotations

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
