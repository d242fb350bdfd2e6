"""My Journey page; HTMX swaps the whole window (filter tabs) or just the ledger (pager)."""
from __future__ import annotations

from flask import request
from flask_login import current_user, login_required

from thrive.services.insights.journey import WINDOWS, journey

from ..htmx import page_or_fragment
from ..params import MAX_PAGE, parse_int
from . import bp


def _page() -> int:
    return parse_int(request.args.get("page"), "page", default=1, maximum=MAX_PAGE, code="invalid_page")


@bp.route("/journey")
@login_required
def index():
    """``?days=7|30|all`` (default 30) and ``?page=N`` of the ledger history.

    An HTMX request targeting ``#ledger`` gets the ledger block alone, any
    other HTMX request the whole journey block; a plain request the page.
    """
    data = journey(current_user, request.args.get("days"), _page())
    block = "ledger" if request.headers.get("HX-Target") == "ledger" else "journey"
    return page_or_fragment("journey/index.html", block, journey=data, windows=list(WINDOWS))
