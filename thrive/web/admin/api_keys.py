"""Admin → API keys (§11, §13): list, create (the plaintext is shown once), revoke."""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from thrive.services.admin import api_keys as service
from thrive.services.errors import ThriveError

from . import bp
from .forms import ApiKeyForm
from .nav import ADMINS, NAV, NavItem

NAV.append(NavItem("admin.api_keys", _l("API keys"), ADMINS))


def _render(form: ApiKeyForm, plaintext: str | None = None, created=None, status: int = 200):
    return render_template("admin/api_keys.html", form=form, keys=service.list_keys(), plaintext=plaintext,
                           created=created), status


@bp.route("/api-keys")
def api_keys():
    return _render(ApiKeyForm())


@bp.route("/api-keys", methods=["POST"])
def api_keys_create():
    form = ApiKeyForm()
    if not form.validate_on_submit():
        return _render(form, status=400)
    try:
        row, plaintext = service.create_key(current_user, form.name.data.strip())
    except ThriveError as exc:
        form.name.errors.append(exc.message)
        return _render(form, status=400)
    # Shown in this response only (never stored, never redirected through the session).
    return _render(ApiKeyForm(formdata=None), plaintext=plaintext, created=row, status=201)


@bp.route("/api-keys/<int:key_id>/revoke", methods=["POST"])
def api_keys_revoke(key_id: int):
    row = service.revoke_key(current_user, key_id)
    flash(_("API key %(name)s (%(prefix)s) is revoked.", name=row.name, prefix=row.prefix), "success")
    return redirect(url_for("admin.api_keys"), 303)
