"""Settings page: one form, validated as a whole, saved in one transaction (nothing half-saved).

Plain posts redirect with a flash message on success and answer 400 with the
errors otherwise; HTMX posts get the form block back (200, so htmx swaps it)
with a success note or the errors.
"""
from __future__ import annotations

from flask import flash, redirect, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from thrive.extensions import db
from thrive.models import Learner
from thrive.services.accounts.onboarding import check_profile
from thrive.services.accounts.preferences import set_locale
from thrive.services.accounts.settings import Settings, SettingsError, current_settings, parse_topics, update_settings

from ...models.community import NOTIFICATION_TYPES
from ..htmx import is_htmx, page_or_fragment
from . import bp
from .forms import PRIVACY_FIELDS, SettingsForm, notify_field_name

TEMPLATE = "settings/index.html"


def _form_from_learner() -> SettingsForm:
    s = current_settings(current_user)
    data = {
        "display_name": s.display_name, "timezone": s.timezone, "topics": ", ".join(s.topics),
        "share_activities": s.share_activities, "share_tier_upgrades": s.share_tier_upgrades,
        "share_profile": s.share_profile, "locale": current_user.locale or "",
    }
    data.update({notify_field_name(t): on for t, on in s.notification_prefs.items()})
    return SettingsForm(data=data)


def _render(form: SettingsForm, *, saved: bool = False, status: int = 200, general_error: str | None = None):
    response = page_or_fragment(TEMPLATE, "settings_form", form=form, privacy=PRIVACY_FIELDS, saved=saved,
                                general_error=general_error)
    response.status_code = status
    return response


@bp.route("/settings", methods=["GET"])
@login_required
def index():
    return _render(_form_from_learner())


@bp.route("/settings", methods=["POST"])
@login_required
def save():
    form = SettingsForm()
    error_status = 200 if is_htmx() else 400
    if not form.validate_on_submit():
        return _render(form, status=error_status, general_error=gettext("Please fix the fields marked below."))
    try:
        settings = Settings(
            display_name=form.display_name.data or "",
            timezone=form.timezone.data or "",
            topics=parse_topics(form.topics.data),
            share_activities=form.share_activities.data,
            share_tier_upgrades=form.share_tier_upgrades.data,
            share_profile=form.share_profile.data,
            notification_prefs={t: bool(form[notify_field_name(t)].data) for t in NOTIFICATION_TYPES},
        )
        saved = update_settings(current_user.id, settings)
        set_locale(current_user.id, form.locale.data if form.locale.data in ("en", "es") else None)
        refreshed = db.session.get(Learner, current_user.id)
        db.session.refresh(refreshed)
        check_profile(refreshed)  # Thrive awards profile_completed once the profile is complete (issue 11)
    except SettingsError as exc:
        target = getattr(form, exc.field, None)
        if target is not None:
            target.errors = list(target.errors) + [exc.message]
            return _render(form, status=error_status, general_error=gettext("Please fix the fields marked below."))
        return _render(form, status=error_status, general_error=exc.message)
    if is_htmx():
        form.topics.data = ", ".join(saved.topics)
        form.display_name.data = saved.display_name
        return _render(form, saved=True)
    flash(gettext("Settings saved."), "success")
    return redirect(url_for("settings.index"))


@bp.route("/settings/sign-out-everywhere", methods=["POST"])
@login_required
def sign_out_everywhere():
    """End every session and "keep me signed in" cookie of the learner, on every device (issue 10)."""
    from ..auth.views import end_browser_session

    response = end_browser_session(all_devices=True)
    flash("You are signed out on every device.", "info")
    return response


@bp.route("/settings/export", methods=["GET"])
@login_required
def export_data():
    """Download "my data": a ZIP of JSON and CSV files with an index.html (issue 10, data subject requests)."""
    from ..data_export import build_export

    export = build_export(current_user.id)
    return export.download()


@bp.route("/settings/delete", methods=["POST"])
@login_required
def delete_account():
    """Erase the account after password confirmation; signs out everywhere (issue 10, data subject requests)."""
    from flask import request

    from thrive.services.accounts.data_requests import erase_learner
    from thrive.services.accounts.learners import authenticate

    from ..auth.views import end_browser_session

    password = request.form.get("password", "")
    if request.form.get("confirm") != "delete" or authenticate(current_user.username, password) is None:
        flash("Your account was not deleted: type your password and tick the confirmation.", "error")
        return redirect(url_for("settings.index")), 303
    learner_id = current_user.id
    response = end_browser_session(all_devices=False)
    erase_learner(learner_id)
    flash("Your account and personal data have been deleted. Thank you for learning with us.", "info")
    return response
