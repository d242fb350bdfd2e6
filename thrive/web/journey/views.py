"""My Journey page; HTMX swaps the whole window (filter tabs) or just the ledger (pager, its own URL)."""
from __future__ import annotations

from flask import request
from flask_login import current_user, login_required

from thrive.services.insights.journey import WINDOWS, journey

from ..htmx import page_arg, page_or_fragment
from . import bp

TEMPLATE = "journey/index.html"


def _render(block: str):
    data = journey(current_user, request.args.get("days"), page_arg())
    return page_or_fragment(TEMPLATE, block, journey=data, windows=list(WINDOWS))


@bp.route("/journey")
@login_required
def index():
    """``?days=7|30|all`` (default 30) and ``?page=N`` of the ledger history; HTMX gets the journey block."""
    return _render("journey")


@bp.route("/journey/ledger")
@login_required
def ledger():
    """The ledger history alone for HTMX paging (``?days=&page=``); a plain request gets the page."""
    return _render("ledger")
