"""Admin → learners (§11): search, a learner's page; adjustments, bulk awards, status and staff roles.

Moderators may read (search and learner pages); every change is admins-only
(the blueprint guard enforces it: only the GET endpoints are allowed to moderators).
"""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from thrive.services.admin import bulk as bulk_service
from thrive.services.admin import learners as service
from thrive.services.errors import NotFound, ThriveError

from ..htmx import page_or_fragment
from . import bp
from .forms import AdjustPointsForm, BulkAwardForm, EraseLearnerForm, StaffRoleForm
from .labels import error_message
from .nav import ADMINS, NAV, STAFF, NavItem, allow_moderators

NAV.append(NavItem("admin.learners", _l("Learners"), STAFF))
NAV.append(NavItem("admin.bulk_award", _l("Bulk award"), ADMINS))
allow_moderators("admin.learners", "admin.learner")

#: Row error codes of a bulk file, phrased for people.
BULK_ERRORS = {
    "unknown_learner": _l("No account with that username or external id."),
    "not_a_learner": _l("A staff account that is not a learner."),
    "unknown_activity_type": _l("Unknown activity type."),
    "activity_disabled": _l("That activity type is disabled."),
    "invalid_points": _l("Points must be a whole number (required for this activity type)."),
    "custom_points_not_allowed": _l("This activity type has a fixed amount: leave points empty."),
    "points_out_of_range": _l("Points out of the rule's range."),
    "reason_required": _l("A reason is required."),
    "reason_too_long": _l("The reason is longer than 500 characters."),
    "award_refused": _l("The award was refused."),
}


def _learner_or_404(learner_id: int):
    try:
        return service.get_learner(learner_id)
    except NotFound:
        abort(404)


@bp.route("/learners")
def learners():
    q = (request.args.get("q") or "").strip()
    return page_or_fragment("admin/learners.html", "learner_results", q=q, results=service.search(q))


def _render_learner(learner, *, adjust_form=None, role_form=None, erase_form=None, status: int = 200):
    from thrive.services.points.registry import load_registry
    from thrive.services.progression.state import status_for

    page, lines = service.ledger_page(learner.id, request.args.get("page", 1, type=int) or 1)
    if adjust_form is None:
        adjust_form = AdjustPointsForm(formdata=None)
    if role_form is None:
        role_form = StaffRoleForm(formdata=None, role=learner.staff_role or "", is_learner=learner.is_learner)
    if erase_form is None:
        erase_form = EraseLearnerForm(formdata=None)
    return render_template(
        "admin/learner.html", learner=learner, status=status_for(learner.state, learner.timezone),
        registry=load_registry(), page=page, lines=lines, circles=service.circle_history(learner.id),
        goals=service.goals(learner.id), adjust_form=adjust_form, role_form=role_form, erase_form=erase_form,
        adjustment_key=request.form.get("event_key") or service.new_adjustment_key(),
        can_edit=current_user.staff_role == "admin",
    ), status


@bp.route("/learners/<int:learner_id>")
def learner(learner_id: int):
    return _render_learner(_learner_or_404(learner_id))


@bp.route("/learners/<int:learner_id>/adjust", methods=["POST"])
def learner_adjust(learner_id: int):
    learner = _learner_or_404(learner_id)
    form = AdjustPointsForm()
    if form.validate_on_submit():
        try:
            result = service.adjust_points(current_user, learner.id, form.points.data, form.reason.data,
                                           message=form.message.data, event_key=request.form.get("event_key"))
        except ThriveError as exc:
            (form.reason.errors if exc.code == "reason_required" else form.points.errors).append(exc.message)
        else:
            if result.duplicate:
                flash(_("That adjustment was already applied; nothing changed."), "info")
            else:
                flash(ngettext("Adjusted %(username)s by %(points)s point (total now %(total)s).",
                               "Adjusted %(username)s by %(points)s points (total now %(total)s).",
                               abs(result.points_awarded), username=learner.username,
                               points=("+" if result.points_awarded > 0 else "")
                               + format_decimal(result.points_awarded),
                               total=format_decimal(result.total_points)), "success")
            return redirect(url_for("admin.learner", learner_id=learner.id), 303)
    return _render_learner(learner, adjust_form=form, status=400)


@bp.route("/learners/<int:learner_id>/deactivate", methods=["POST"])
def learner_deactivate(learner_id: int):
    return _set_active(learner_id, False)


@bp.route("/learners/<int:learner_id>/reactivate", methods=["POST"])
def learner_reactivate(learner_id: int):
    return _set_active(learner_id, True)


def _set_active(learner_id: int, active: bool):
    learner = _learner_or_404(learner_id)
    try:
        service.set_active(current_user, learner.id, active)
    except ThriveError as exc:
        flash(error_message(exc), "error")
    else:
        flash(_("%(username)s is reactivated.", username=learner.username) if active
              else _("%(username)s is deactivated.", username=learner.username), "success")
    return redirect(url_for("admin.learner", learner_id=learner.id), 303)


@bp.route("/learners/<int:learner_id>/staff-role", methods=["POST"])
def learner_staff_role(learner_id: int):
    learner = _learner_or_404(learner_id)
    form = StaffRoleForm()
    if form.validate_on_submit():
        try:
            service.set_staff_role(current_user, learner.id, form.role.data or None, bool(form.is_learner.data))
        except ThriveError as exc:
            form.role.errors.append(error_message(exc))
        else:
            flash(_("Staff role of %(username)s saved.", username=learner.username), "success")
            return redirect(url_for("admin.learner", learner_id=learner.id), 303)
    return _render_learner(learner, role_form=form, status=400)


@bp.route("/learners/bulk-award", methods=["GET", "POST"])
def bulk_award():
    """GET: the upload form. POST with a file: the dry run (writes nothing), which carries the file's
    text into a "run for real" form. POST with ``content`` and ``mode=run``: the real run."""
    form = BulkAwardForm()
    report, content, filename, status = None, None, None, 200
    if request.method == "POST":
        if request.form.get("mode") == "run" and request.form.get("content") is not None:
            content, filename = request.form["content"], (request.form.get("filename") or "upload.csv")[:200]
            data, dry_run = content.encode("utf-8"), False
        elif form.validate_on_submit():
            upload = form.file.data
            data, dry_run, filename = upload.read(), True, (upload.filename or "upload.csv")[:200]
        else:
            data = None
            status = 400
        if data is not None:
            try:
                report = bulk_service.run(current_user, data, dry_run=dry_run, filename=filename)
                if dry_run:
                    content = data.decode("utf-8-sig")
            except ThriveError as exc:
                form.file.errors.append(exc.message)
                status = 400
    return render_template("admin/bulk_award.html", form=form, report=report, errors=BULK_ERRORS,
                           content=content, filename=filename), status
