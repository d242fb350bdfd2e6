"""Admin → side quests (§10, §11): list, define, edit, publish / retire. Every change is audited."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from thrive.services.errors import NotFound, ThriveError
from thrive.services.quests import catalog

from . import bp
from .labels import error_message, status_label
from .nav import ADMINS, NAV, NavItem
from .quest_forms import QuestForm, window_days

NAV.append(NavItem("admin.quests", _l("Side quests"), ADMINS))

STATUS_ACTIONS = {"publish": "published", "retire": "retired", "draft": "draft"}


@bp.route("/quests")
def quests():
    return render_template("admin/quests.html", quests=catalog.all_quests())


def _form_page(form: QuestForm, quest=None, status: int = 200):
    return render_template("admin/quest_form.html", form=form, quest=quest), status


@bp.route("/quests/new", methods=["GET", "POST"])
def quest_new():
    form = QuestForm().fill_choices(catalog.all_quests())
    if not form.validate_on_submit():
        return _form_page(form, status=400 if form.is_submitted() else 200)
    try:
        quest = catalog.create_quest(form.values(), actor=current_user)
    except ThriveError as exc:
        form.form_errors.append(error_message(exc))
        return _form_page(form, status=400)
    flash(_("Quest “%(title)s” created as a draft. Publish it when it is ready.", title=quest.title), "success")
    return redirect(url_for("admin.quest_edit", quest_id=quest.id), 303)


@bp.route("/quests/<int:quest_id>", methods=["GET", "POST"])
def quest_edit(quest_id: int):
    try:
        quest = catalog.get_quest(quest_id)
    except NotFound:
        abort(404)
    if not QuestForm().is_submitted():
        first, last = window_days(quest.available_from, quest.available_until)
        data = {name: getattr(quest, name) for name in catalog.EDITABLE}
        data.update(available_from=first, available_until=last, prerequisite_id=quest.prerequisite_id or 0)
        form = QuestForm(data=data).fill_choices(catalog.all_quests(), quest.id)
        return _form_page(form, quest)
    form = QuestForm().fill_choices(catalog.all_quests(), quest.id)
    if not form.validate():
        return _form_page(form, quest, 400)
    try:
        catalog.update_quest(quest_id, form.values(), actor=current_user)
    except ThriveError as exc:
        form.form_errors.append(error_message(exc))
        return _form_page(form, quest, 400)
    flash(_("Quest saved. Runs already started keep the target they started with."), "success")
    return redirect(url_for("admin.quest_edit", quest_id=quest_id), 303)


@bp.route("/quests/<int:quest_id>/<action>", methods=["POST"])
def quest_status(quest_id: int, action: str):
    if action not in STATUS_ACTIONS:
        abort(404)
    try:
        _before, quest = catalog.set_status(quest_id, STATUS_ACTIONS[action], actor=current_user)
    except NotFound:
        abort(404)
    flash(_("Quest “%(title)s” is now %(status)s.", title=quest.title, status=status_label(quest.status)), "success")
    return redirect(url_for("admin.quests"), 303)
