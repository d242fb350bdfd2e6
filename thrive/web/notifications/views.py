"""Notifications: list (newest first, paged), mark one / all read, the bell fragment,
and the celebration modal endpoint (§7, §9).

Every state change is a POST with CSRF. HTMX requests get the refreshed list
fragment plus the bell out of band; plain form posts redirect back with a
flash message (works without JavaScript).
"""
from __future__ import annotations

from flask import flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_login import current_user, login_required

from thrive.services.errors import ValidationError
from thrive.services.notifications import inbox

from ..hooks import HeaderInfo
from ..htmx import is_htmx, page_arg, page_or_fragment
from . import bp
from .oob import bell_oob, celebration_oob


@bp.route("/notifications")
@login_required
def index():
    listing = inbox.list_notifications(current_user.id, page_arg())
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
        return page_or_fragment("notifications/index.html", "notification_list", extra=bell_oob(listing.unread),
                                listing=listing)
    flash(message, "success")
    response = redirect(url_for("notifications.index", page=page if page > 1 else None))
    response.vary.add("HX-Request")
    return response


@bp.route("/notifications/<int:notification_id>/read", methods=["POST"])
@login_required
def mark_read(notification_id: int):
    inbox.mark_read(current_user.id, notification_id)
    # A collapsed burst ("Level 2 → 11") marks every notification it stands for.
    for other in request.form.getlist("also"):
        if other.isdigit() and int(other) != notification_id:
            inbox.mark_read(current_user.id, int(other))
    return _after_change(gettext("Marked as read."), page_arg(request.form))


@bp.route("/notifications/read-all", methods=["POST"])
@login_required
def mark_all_read():
    changed = inbox.mark_all_read(current_user.id)
    message = ngettext("Marked %(num)s notification as read.", "Marked %(num)s notifications as read.", changed) \
        if changed else gettext("Everything was already read.")
    try:   # the page is only where to return to: a bad one returns to the first page
        page = page_arg(request.form)
    except ValidationError:
        page = 1
    return _after_change(message, page)


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
