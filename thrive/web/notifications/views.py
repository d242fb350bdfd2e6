"""Notifications: list (newest first, paged), mark one / all read, the bell fragment,
and the celebration modal endpoint (§7, §9).

Every state change is a POST with CSRF. HTMX requests get the refreshed list
fragment plus the bell out of band; plain form posts redirect back with a
flash message (works without JavaScript).
"""
from __future__ import annotations

from flask import flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from jinja2_fragments.flask import render_block

from thrive.services.notifications import inbox

from ..hooks import HeaderInfo
from ..htmx import is_htmx, page_or_fragment
from ..params import MAX_PAGE, is_ascii_int
from . import bp
from .oob import bell_oob, celebration_oob


def _page_arg(source) -> int:
    raw = source.get("page")
    return int(raw) if is_ascii_int(raw, MAX_PAGE) and int(raw) >= 1 else 1


@bp.route("/notifications")
@login_required
def index():
    listing = inbox.list_notifications(current_user.id, _page_arg(request.args))
    return page_or_fragment("notifications/index.html", "notification_list", listing=listing)


@bp.route("/notifications/bell")
@login_required
def bell():
    """The bell (unread count) for polling; carries the header tier chip and pending celebrations out of band."""
    if not is_htmx():
        response = redirect(url_for("notifications.index"))
    else:
        header = HeaderInfo(current_user)
        body = (render_template("_bell.html", unread=header.unread)
                + render_template("_header_tier.html", tier=header.tier, level=header.level, oob=True)
                + celebration_oob(current_user.id))
        response = make_response(body)
    response.vary.add("HX-Request")
    return response


def _after_change(message: str, page: int):
    if is_htmx():
        listing = inbox.list_notifications(current_user.id, page)
        body = render_block("notifications/index.html", "notification_list", listing=listing)
        response = make_response(body + bell_oob(listing.unread))
    else:
        flash(message, "success")
        response = redirect(url_for("notifications.index", page=page if page > 1 else None))
    response.vary.add("HX-Request")
    return response


@bp.route("/notifications/<int:notification_id>/read", methods=["POST"])
@login_required
def mark_read(notification_id: int):
    inbox.mark_read(current_user.id, notification_id)
    return _after_change("Marked as read.", _page_arg(request.form))


@bp.route("/notifications/read-all", methods=["POST"])
@login_required
def mark_all_read():
    changed = inbox.mark_all_read(current_user.id)
    message = f"Marked {changed} notification{'s' if changed != 1 else ''} as read." if changed else \
        "Everything was already read."
    return _after_change(message, _page_arg(request.form))


@bp.route("/celebrations/next")
@login_required
def next_celebration():
    """The celebration modal for pending celebrations (claimed: shown exactly once).

    HTMX gets the ``<dialog>`` fragment (empty when nothing is pending); a plain
    request is sent home, where the layout renders pending celebrations itself.
    """
    if not is_htmx():
        response = redirect(url_for("home.index"))
    else:
        from thrive.services.notifications.celebrations import claim_pending

        response = make_response(render_template("_celebration.html", celebrations=claim_pending(current_user.id)))
    response.vary.add("HX-Request")
    return response
