"""Admin → feed moderation (§8.1, §11): the report queue, hide/unhide/dismiss, hide all, a learner's history.

Moderators and admins reach every route here (``allow_moderators``).
Every POST redirects back (303) with a flash message; each is one audited action.
"""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user

from thrive.services.community import moderation as service
from thrive.services.errors import Conflict, NotFound, ValidationError

from ..auth.views import safe_next
from . import bp
from .economy_forms import NoteForm
from .labels import error_message
from .nav import NAV, STAFF, NavItem, allow_moderators

NAV.append(NavItem("admin.moderation", _l("Moderation"), STAFF))
allow_moderators("admin.moderation", "admin.moderation_history")
allow_moderators("admin.moderation_hide", "admin.moderation_unhide", "admin.moderation_dismiss",
                 "admin.moderation_hide_all", methods=("POST",))

REASON_LABELS = {"spam": _l("Spam"), "offensive": _l("Offensive"), "harassment": _l("Harassment"),
                 "personal_info": _l("Personal information"), "other": _l("Other")}


@bp.app_template_filter("report_reason")
def report_reason(code: str) -> str:
    return REASON_LABELS.get(code, code)


def _target() -> tuple[str, int]:
    kind = request.form.get("kind", "")
    try:
        return kind, int(request.form.get("id", ""))
    except ValueError:
        abort(400)


def _back(default: str):
    target = request.form.get("next")
    return redirect(target if target and safe_next(target) == target else default, 303)


@bp.route("/moderation")
def moderation():
    return render_template("admin/moderation.html", queue=service.moderation_queue(), form=NoteForm())


@bp.route("/moderation/hide", methods=["POST"])
def moderation_hide():
    form = NoteForm()
    if not form.validate_on_submit():
        abort(400)
    kind, target_id = _target()
    try:
        result = service.hide_item(current_user, kind, target_id, note=(form.note.data or "").strip() or None)
    except (ValidationError, NotFound, Conflict) as exc:
        flash(error_message(exc), "error")
    else:
        flash(ngettext("Item hidden; %(num)s report closed. The learner was notified; their points stay.",
                       "Item hidden; %(num)s reports closed. The learner was notified; their points stay.",
                       result.reports_resolved), "success")
    return _back(url_for("admin.moderation"))


@bp.route("/moderation/unhide", methods=["POST"])
def moderation_unhide():
    NoteForm().validate_on_submit() or abort(400)
    kind, target_id = _target()
    try:
        service.unhide_item(current_user, kind, target_id)
    except (ValidationError, NotFound) as exc:
        flash(error_message(exc), "error")
    else:
        flash(_("Item shown again."), "success")
    return _back(url_for("admin.moderation"))


@bp.route("/moderation/dismiss", methods=["POST"])
def moderation_dismiss():
    NoteForm().validate_on_submit() or abort(400)
    kind, target_id = _target()
    try:
        result = service.dismiss_reports(current_user, kind, target_id)
    except (ValidationError, NotFound) as exc:
        flash(error_message(exc), "error")
    else:
        flash(ngettext("%(num)s report dismissed; the item stays visible.",
                       "%(num)s reports dismissed; the item stays visible.", result.reports_resolved), "success")
    return _back(url_for("admin.moderation"))


@bp.route("/moderation/learners/<int:learner_id>/hide-all", methods=["POST"])
def moderation_hide_all(learner_id: int):
    form = NoteForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        result = service.hide_all(current_user, learner_id, note=(form.note.data or "").strip() or None)
    except NotFound:
        abort(404)
    flash(ngettext("%(num)s feed item hidden", "%(num)s feed items hidden", result.items) + ", "
          + ngettext("%(num)s report closed.", "%(num)s reports closed.", result.reports_resolved), "success")
    return _back(url_for("admin.moderation_history", learner_id=learner_id))


@bp.route("/moderation/learners/<int:learner_id>")
def moderation_history(learner_id: int):
    try:
        history = service.history(learner_id)
    except NotFound:
        abort(404)
    return render_template("admin/moderation_history.html", history=history,
                           hidden=service.hidden_items(learner_id), form=NoteForm())
