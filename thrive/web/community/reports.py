"""Reporting a feed item (§11 feed moderation): ``POST /community/report``; ``GET`` answers the form.

HTMX answers the report box alone (``community/_report.html``: a thank-you
line, or the form with its error); without JavaScript the form posts normally
and redirects back (``next``) with a flash message. CSRF as on every form.
"""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from thrive.models.moderation import FEED_ITEM_KINDS
from thrive.services.community import moderation
from thrive.services.errors import Conflict, NotFound, ValidationError

from ..auth.views import safe_next
from ..htmx import is_htmx, page_or_fragment
from . import bp

ERRORS = {
    "invalid_reason": _l("Choose a reason."),
    "cannot_report_self": _l("You cannot report your own activity."),
    "already_reported": _l("You already reported this. Thank you!"),
    "details_too_long": _l("Please keep the details under 500 characters."),
    "not_found": _l("This item is no longer in the feed."),
}


def _item(source) -> dict:
    """The reported item (kind, id, dom_id as in the feed) named by ``source`` (form or query args)."""
    kind = source.get("kind", "")
    try:
        target_id = int(source.get("id", ""))
    except ValueError:
        target_id = 0
    return {"kind": kind, "id": target_id, "dom_id": f"feed-{kind.replace('_', '-')}-{target_id}"}


@bp.route("/community/report", methods=["GET"])
@login_required
def report_form():
    """The report form of one feed item (``?kind=&id=&next=``): a page, or for HTMX the form alone — the
    feed fetches it when "Report" is opened instead of carrying one form per item (issue 11, Lighthouse).
    An unknown kind or id is a 404."""
    item = _item(request.args)
    if item["kind"] not in FEED_ITEM_KINDS or item["id"] <= 0:
        raise NotFound("no such feed item")
    here = safe_next(request.args.get("next"), url_for("community.index"))
    if is_htmx():  # opened under the item itself in the feed
        return page_or_fragment("community/report.html", "report_fields", item=item, here=here, is_fragment=True)
    actor, subject = moderation.reportable_item(item["kind"], item["id"])  # the page names what is reported
    return render_template("community/report.html", item=item, here=here, is_fragment=False, actor=actor,
                           subject=subject)


@bp.route("/community/report", methods=["POST"])
@login_required
def report():
    item = _item(request.form)
    kind, target_id = item["kind"], item["id"]
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
