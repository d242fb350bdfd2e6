"""Admin → point rules (§4.2, §4.4, §11): list, add, edit every field, enable/disable, versions, dry run.

``POST /admin/rules/<type>/dry-run`` answers the dry-run panel alone for HTMX
(``block dry_run``) and the whole edit page otherwise, values kept, nothing saved.
"""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from jinja2_fragments.flask import render_block

from thrive.services.admin import rules as service
from thrive.services.errors import NotFound

from ..htmx import is_htmx
from . import bp
from .economy_forms import RuleForm, apply_errors, difficulty_text
from .nav import ADMINS, NAV, NavItem

NAV.append(NavItem("admin.rules", _l("Point rules"), ADMINS))


def _rule_or_404(activity_type: str):
    try:
        return service.get_rule(activity_type)
    except NotFound:
        abort(404)


def _form_for(rule) -> RuleForm:
    form = RuleForm(formdata=None, data=service.rule_snapshot(rule))
    form.difficulty_points.data = difficulty_text(rule.difficulty_points)
    form.category.data = rule.category or ""
    return form


def _edit_page(rule, form: RuleForm, *, dry=None, status: int = 200):
    return render_template("admin/rule_form.html", rule=rule, form=form, versions=service.versions(rule.activity_type),
                           dry=dry, days=service.DRY_RUN_DAYS), status


@bp.route("/rules")
def rules():
    return render_template("admin/rules.html", rules=service.list_rules())


@bp.route("/rules/new", methods=["GET", "POST"])
def rule_new():
    form = RuleForm() if request.method == "POST" else RuleForm(formdata=None, data={"enabled": True})
    if request.method == "POST" and form.validate_on_submit():
        data = form.rule_data()
        if data is not None:
            try:
                result = service.save_rule(current_user, data)
            except service.RuleErrors as exc:
                apply_errors(form, exc.errors)
            else:
                flash(_("Rule %(rule)s created (version 1).", rule=result.activity_type), "success")
                return redirect(url_for("admin.rule_edit", activity_type=result.activity_type), 303)
    status = 400 if request.method == "POST" else 200
    return render_template("admin/rule_form.html", rule=None, form=form, versions=[], dry=None,
                           days=service.DRY_RUN_DAYS), status


@bp.route("/rules/<activity_type>", methods=["GET", "POST"])
def rule_edit(activity_type: str):
    rule = _rule_or_404(activity_type)
    if request.method == "GET":
        return _edit_page(rule, _form_for(rule))
    form = RuleForm()
    if form.validate_on_submit():
        data = form.rule_data()
        if data is not None:
            try:
                result = service.save_rule(current_user, data, activity_type=activity_type)
            except service.RuleErrors as exc:
                apply_errors(form, exc.errors)
            else:
                if result.changed:
                    flash(_("Saved %(rule)s as version %(version)s; awards from now on use it.", rule=activity_type,
                            version=result.version),
                          "success")
                else:
                    flash(_("Nothing changed."), "info")
                return redirect(url_for("admin.rule_edit", activity_type=activity_type), 303)
    return _edit_page(rule, form, status=400)


@bp.route("/rules/<activity_type>/dry-run", methods=["POST"])
def rule_dry_run(activity_type: str):
    """What the edited rule would have awarded over the last 30 days, next to what was awarded (nothing saved)."""
    rule = _rule_or_404(activity_type)
    form = RuleForm()
    dry, status = None, 400
    if form.validate_on_submit():
        data = form.rule_data()
        if data is not None:
            try:
                dry, status = service.dry_run(activity_type, data), 200
            except service.RuleErrors as exc:
                apply_errors(form, exc.errors)
    if is_htmx():
        ctx = {"rule": rule, "form": form, "dry": dry, "days": service.DRY_RUN_DAYS}
        return render_block("admin/rule_form.html", "dry_run", **ctx), status
    return _edit_page(rule, form, dry=dry, status=status)


@bp.route("/rules/<activity_type>/enabled", methods=["POST"])
def rule_toggle(activity_type: str):
    _rule_or_404(activity_type)
    enabled = request.form.get("enabled") == "1"
    result = service.set_enabled(current_user, activity_type, enabled)
    flash(_("%(rule)s enabled (version %(version)s).", rule=activity_type, version=result.version) if enabled
          else _("%(rule)s disabled (version %(version)s).", rule=activity_type, version=result.version), "success")
    return redirect(url_for("admin.rules"), 303)
