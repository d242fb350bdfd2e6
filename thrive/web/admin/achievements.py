"""Admin → achievements (§10, §11): list with rarity, define, edit, retire, backfill, revoke with a reason.

Every change is audited (the services write the audit entry in their transaction).
"""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from thrive.extensions import db
from thrive.models import Learner
from thrive.services.achievements import catalog
from thrive.services.achievements.backfill import backfill
from thrive.services.achievements.grants import revoke
from thrive.services.achievements.reading import rarities
from thrive.services.errors import NotFound, ThriveError

from . import bp
from .labels import error_message, status_label
from .nav import ADMINS, NAV, NavItem
from .quest_forms import AchievementForm, RevokeForm

NAV.append(NavItem("admin.achievements", _l("Achievements"), ADMINS))


@bp.route("/achievements")
def achievements():
    return render_template("admin/achievements.html", achievements=catalog.all_achievements(), rarity=rarities())


def _form_page(form: AchievementForm, achievement=None, revoke_form=None, status: int = 200):
    return render_template("admin/achievement_form.html", form=form, achievement=achievement,
                           revoke_form=revoke_form), status


@bp.route("/achievements/new", methods=["GET", "POST"])
def achievement_new():
    form = AchievementForm().fill_choices()
    if not form.validate_on_submit():
        return _form_page(form, status=400 if form.is_submitted() else 200)
    try:
        ach = catalog.create_achievement(form.values(), actor=current_user)
    except ThriveError as exc:
        form.form_errors.append(error_message(exc))
        return _form_page(form, status=400)
    flash(_("Achievement “%(name)s” created. Run the backfill to grant it to learners who already meet it.",
            name=ach.name), "success")
    return redirect(url_for("admin.achievement_edit", achievement_id=ach.id), 303)


def _get(achievement_id: int):
    try:
        return catalog.get_achievement(achievement_id)
    except NotFound:
        abort(404)


def _filled(ach) -> AchievementForm:
    """The edit form filled from the stored achievement."""
    data = {name: getattr(ach, name) for name in catalog.EDITABLE if name != "criteria"}
    data.update(kind=ach.criteria["kind"], target=ach.criteria.get("target"), counter=ach.criteria.get("counter"),
                activity_type=ach.criteria.get("activity_type"), tier=ach.criteria.get("tier"))
    return AchievementForm(formdata=None, data=data).fill_choices()


@bp.route("/achievements/<int:achievement_id>", methods=["GET", "POST"])
def achievement_edit(achievement_id: int):
    ach = _get(achievement_id)
    if not AchievementForm().is_submitted():
        return _form_page(_filled(ach), ach, RevokeForm(formdata=None))
    form = AchievementForm().fill_choices()
    if not form.validate():
        return _form_page(form, ach, RevokeForm(formdata=None), 400)
    try:
        catalog.update_achievement(achievement_id, form.values(), actor=current_user)
    except ThriveError as exc:
        form.form_errors.append(error_message(exc))
        return _form_page(form, ach, RevokeForm(formdata=None), 400)
    flash(_("Achievement saved. Badges already granted stay granted."), "success")
    return redirect(url_for("admin.achievement_edit", achievement_id=achievement_id), 303)


@bp.route("/achievements/<int:achievement_id>/<action>", methods=["POST"])
def achievement_status(achievement_id: int, action: str):
    statuses = {"retire": "retired", "activate": "active"}
    if action not in statuses:
        abort(404)
    _get(achievement_id)
    _before, ach = catalog.set_status(achievement_id, statuses[action], actor=current_user)
    flash(_("Achievement “%(name)s” is now %(status)s.", name=ach.name, status=status_label(ach.status)), "success")
    return redirect(url_for("admin.achievements"), 303)


@bp.route("/achievements/<int:achievement_id>/revoke", methods=["POST"])
def achievement_revoke(achievement_id: int):
    ach = _get(achievement_id)
    form = RevokeForm()
    if form.validate_on_submit():
        learner_id = db.session.scalar(select(Learner.id).where(Learner.username == form.username.data.strip()))
        if learner_id is None:
            form.username.errors.append(_("No learner with that username."))
        else:
            try:
                revoke(learner_id, achievement_id, actor=current_user, reason=form.reason.data)
                flash(_("Revoked “%(name)s” from %(username)s.", name=ach.name, username=form.username.data.strip()),
                      "success")
                return redirect(url_for("admin.achievement_edit", achievement_id=achievement_id), 303)
            except ThriveError as exc:
                form.username.errors.append(error_message(exc))
    return _form_page(_filled(ach), ach, form, 400)


@bp.route("/achievements/backfill", methods=["POST"])
def achievements_backfill():
    from thrive.db import write_transaction
    from thrive.services.admin.audit import record

    summary = backfill()
    with write_transaction() as session:
        record(current_user, "achievement.backfill", "achievement", None, None,
               {"granted": summary.granted, "by_achievement": summary.by_achievement}, session=session)
    flash(ngettext("Backfill done: %(count)s badge granted quietly to a learner who already met it.",
                   "Backfill done: %(count)s badges granted quietly to learners who already met them.",
                   summary.granted, count=format_decimal(summary.granted)), "success")
    return redirect(url_for("admin.achievements"), 303)
