"""Admin → weekly goal templates (§6.2, §11): list, add, edit, enable/disable (applies to the next goals created)."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from thrive.services.admin import goal_templates as service
from thrive.services.errors import NotFound
from thrive.services.points.registry import load_registry

from . import bp
from .economy_forms import GoalTemplateForm, apply_errors
from .nav import ADMINS, NAV, NavItem

NAV.append(NavItem("admin.goal_templates", _l("Goal templates"), ADMINS))


def _with_choices(form: GoalTemplateForm) -> GoalTemplateForm:
    form.activity_types.choices = {k: f"{r.label} ({k})" for k, r in sorted(load_registry().rules.items())}
    return form


def _data(form: GoalTemplateForm) -> dict:
    return {name: form[name].data for name in ("key", "title", "description", "kind", "activity_types", "target",
                                               "reward", "position", "enabled")}


def _render_form(form, template=None, status: int = 200):
    low, high = service.reward_bounds()
    return render_template("admin/goal_template_form.html", form=form, template=template, low=low, high=high), status


@bp.route("/goal-templates")
def goal_templates():
    return render_template("admin/goal_templates.html", templates=service.list_templates())


@bp.route("/goal-templates/new", methods=["GET", "POST"])
def goal_template_new():
    if request.method == "GET":
        return _render_form(_with_choices(GoalTemplateForm(formdata=None, data={
            "enabled": True, "position": service.next_position()})))
    form = _with_choices(GoalTemplateForm())
    if form.validate_on_submit():
        try:
            saved = service.save_template(current_user, _data(form))
        except service.TemplateErrors as exc:
            apply_errors(form, exc.errors)
        else:
            flash(_("Goal template created; it applies from the next goals created."), "success")
            return redirect(url_for("admin.goal_template_edit", template_id=saved.template_id), 303)
    return _render_form(form, status=400)


@bp.route("/goal-templates/<int:template_id>", methods=["GET", "POST"])
def goal_template_edit(template_id: int):
    try:
        template = service.get_template(template_id)
    except NotFound:
        abort(404)
    if request.method == "GET":
        return _render_form(_with_choices(GoalTemplateForm(formdata=None, obj=template)), template)
    form = _with_choices(GoalTemplateForm())
    if form.validate_on_submit():
        try:
            saved = service.save_template(current_user, _data(form), template_id=template_id)
        except service.TemplateErrors as exc:
            apply_errors(form, exc.errors)
        else:
            flash(_("Saved; it applies from the next goals created.") if saved.changed else _("Nothing changed."),
                  "success" if saved.changed else "info")
            return redirect(url_for("admin.goal_template_edit", template_id=template_id), 303)
    return _render_form(form, template, status=400)


@bp.route("/goal-templates/<int:template_id>/enabled", methods=["POST"])
def goal_template_toggle(template_id: int):
    enabled = request.form.get("enabled") == "1"
    try:
        service.set_enabled(current_user, template_id, enabled)
    except NotFound:
        abort(404)
    flash(_("Goal template enabled; it applies from the next goals created.") if enabled
          else _("Goal template disabled; it applies from the next goals created."), "success")
    return redirect(url_for("admin.goal_templates"), 303)
