"""Reporting a feed item (§11 feed moderation): ``POST /community/report``.

HTMX answers the report box alone (``community/_report.html``: a thank-you
line, or the form with its error); without JavaScript the form posts normally
and redirects back (``next``) with a flash message. CSRF as on every form.
"""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from thrive.services.community import moderation
from thrive.services.errors import Conflict, NotFound, ValidationError

from ..auth.views import safe_next
from ..htmx import is_htmx
from . import bp

ERRORS = {
    "invalid_reason": _l("Choose a reason."),
    "cannot_report_self": _l("You cannot report your own activity."),
    "already_reported": _l("You already reported this. Thank you!"),
    "details_too_long": _l("Please keep the details under 500 characters."),
    "not_found": _l("This item is no longer in the feed."),
}


@bp.route("/community/report", methods=["POST"])
@login_required
def report():
    kind = request.form.get("kind", "")
    try:
        target_id = int(request.form.get("id", ""))
    except ValueError:
        target_id = 0
    item = {"kind": kind, "id": target_id, "dom_id": f"feed-{kind.replace('_', '-')}-{target_id}"}
    error, status, sent = None, 201, True
    try:
        moderation.report_item(current_user.id, kind, target_id, request.form.get("reason", ""),
                               request.form.get("details"))
    except (ValidationError, NotFound, Conflict) as exc:
        error = str(ERRORS.get(exc.code, exc.message))
        sent = exc.code == "already_reported"  # nothing to fix: show the thank-you line
        status = 409 if isinstance(exc, Conflict) else 404 if isinstance(exc, NotFound) else 400
    if is_htmx():
        return render_template("community/_report_response.html", item=item, error=error, sent=sent), status
    flash(error or _("Thank you — a moderator will take a look."), "error" if error else "success")
    target = request.form.get("next")
    return redirect(target if target and safe_next(target) == target else url_for("community.index"), 303)
