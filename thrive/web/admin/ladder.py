"""Admin → tiers and levels (§5.1, §5.2, §1.2, §11): edit the ladder and level table with a what-if preview.

One form, three buttons: "Generate" fills the level table from a curve,
"Preview" shows the what-if table (HTMX: ``block what_if`` alone), "Save"
writes it — never demoting anyone — and says how many learners it promoted.
"""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from jinja2_fragments.flask import render_block

from thrive.services.admin import ladder as service

from ..htmx import is_htmx
from . import bp
from .economy_forms import LadderForm, apply_errors, message
from .nav import ADMINS, NAV, NavItem

NAV.append(NavItem("admin.ladder", _l("Tiers & levels"), ADMINS))
SPARE_ROWS = 1


def _blank_form() -> LadderForm:
    table = service.current_ladder()
    form = LadderForm(formdata=None, data={"tiers": table["tiers"] + [{}] * SPARE_ROWS})
    form.levels.data = ", ".join(str(v) for v in table["levels"])
    return form


def _render(form: LadderForm, *, what_if=None, errors=None, status: int = 200, curve_open: bool = False):
    return render_template("admin/ladder.html", form=form, what_if=what_if, errors=errors or [],
                           current=service.current_ladder(), curve_open=curve_open), status


def _parse(form: LadderForm):
    """(tiers, levels, loose errors) from a submitted form; tiers None when the form itself is invalid."""
    ok = form.validate_on_submit()
    levels = form.level_values()
    if not ok or levels is None:
        return None, None, []
    rows = form.tier_rows()
    return rows, levels, []


def _tier_errors(form: LadderForm, rows: list[dict], errors: dict[str, str]) -> list[str]:
    """Map ``tiers.<i>.<field>`` (index among non-blank rows) back onto the form's rows."""
    mapped: dict[str, str] = {}
    for path, code in errors.items():
        parts = path.split(".")
        if parts[0] == "tiers" and len(parts) >= 2 and parts[1].isdigit():
            parts[1] = str(rows[int(parts[1])]["_index"]) if int(parts[1]) < len(rows) else parts[1]
            if len(parts) == 2:
                parts.append("threshold")
            mapped[".".join(parts)] = code
        else:
            mapped[path] = code
    loose = apply_errors(form, {k: v for k, v in mapped.items() if k not in ("tiers",)})
    if "tiers" in mapped:
        loose.append(_("Tiers: %(error)s", error=message(mapped["tiers"])))
    return loose


@bp.route("/ladder")
def ladder():
    return _render(_blank_form())


@bp.route("/ladder", methods=["POST"])
def ladder_post():
    form = LadderForm()
    action = request.form.get("action", "preview")
    if action == "generate":
        if form.validate_on_submit():
            try:
                levels = service.curve_thresholds(form.curve.data, form.curve_count.data or 23,
                                                  form.curve_base.data or 50, form.curve_coefficient.data or 0)
            except service.LadderErrors as exc:
                errors = apply_errors(form, {k.replace("curve.", "curve_").replace("curve_kind", "curve"): v
                                             for k, v in exc.errors.items()})
                return _render(form, errors=errors, status=400, curve_open=True)
            form.levels.data = ", ".join(str(v) for v in levels)
            form.levels.raw_data = [form.levels.data]
            return _render(form, curve_open=True)
        return _render(form, status=400, curve_open=True)
    rows, levels, _unused = _parse(form)
    if rows is None:
        return _render(form, status=400)
    clean_rows = [{k: v for k, v in r.items() if k != "_index"} for r in rows]
    if action == "save":
        try:
            saved = service.save_ladder(current_user, clean_rows, levels, celebrate=form.announce.data == "celebrate")
        except service.LadderErrors as exc:
            return _render(form, errors=_tier_errors(form, rows, exc.errors), status=400)
        how = _("celebrated") if saved.celebrated else _("applied silently")
        flash(ngettext("Tiers and levels saved. %(num)s learner promoted (%(tiers)s to a higher tier, %(levels)s to a "
                       "higher level), %(how)s; nobody was demoted.",
                       "Tiers and levels saved. %(num)s learners promoted (%(tiers)s to a higher tier, %(levels)s to a "
                       "higher level), %(how)s; nobody was demoted.", saved.promoted, tiers=saved.tier_promoted,
                       levels=saved.level_promoted, how=how), "success")
        return redirect(url_for("admin.ladder"), 303)
    try:
        what_if = service.what_if(clean_rows, levels)
    except service.LadderErrors as exc:
        errors = _tier_errors(form, rows, exc.errors)
        if is_htmx():
            return render_block("admin/ladder.html", "what_if", form=form, what_if=None, errors=errors), 400
        return _render(form, errors=errors, status=400)
    if is_htmx():
        return render_block("admin/ladder.html", "what_if", form=form, what_if=what_if, errors=[])
    return _render(form, what_if=what_if)
