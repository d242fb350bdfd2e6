"""Admin → configuration as data (§11): download the JSON document; import one with a dry run first.

``POST /admin/config/import`` with ``action=dry_run`` shows the differences and
writes nothing; ``action=apply`` applies them (one audit entry). The document
comes from an uploaded file or the text area.
"""
from __future__ import annotations

import json

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user

from thrive.services.admin import config_data as service

from . import bp
from .economy_forms import ImportConfigForm, message
from .nav import ADMINS, NAV, NavItem

NAV.append(NavItem("admin.config", _l("Configuration"), ADMINS))


@bp.route("/config")
def config():
    return render_template("admin/config.html", form=ImportConfigForm(), result=None, errors=[])


@bp.route("/config/export.json")
def config_export():
    doc = service.export_config()
    stamp = doc["exported_at"][:10]
    return Response(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="thrive-config-{stamp}.json"'})


def _document(form: ImportConfigForm) -> tuple[str | None, str | None]:
    """(text, error) from the upload or the text area."""
    upload = form.file.data
    if upload and getattr(upload, "filename", ""):
        raw = upload.read(service.MAX_DOCUMENT_BYTES + 1)
        if len(raw) > service.MAX_DOCUMENT_BYTES:
            return None, _("The file is too large.")
        try:
            return raw.decode("utf-8"), None
        except UnicodeDecodeError:
            return None, _("The file is not UTF-8 text.")
    text = (form.document.data or "").strip()
    return (text, None) if text else (None, _("Choose a file or paste a document."))


@bp.route("/config/import", methods=["POST"])
def config_import():
    form = ImportConfigForm()
    dry_run = request.form.get("action") != "apply"
    if not form.validate_on_submit():
        return render_template("admin/config.html", form=form, result=None, errors=[]), 400
    text, error = _document(form)
    doc = None
    if error is None:
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            error = _("This is not valid JSON (%(error)s, line %(line)s).", error=exc.msg, line=exc.lineno)
    if error:
        form.document.errors = [*form.document.errors, error]
        return render_template("admin/config.html", form=form, result=None, errors=[]), 400
    try:
        result = service.import_config(doc, actor=current_user, dry_run=dry_run, celebrate=form.celebrate.data)
    except service.ConfigErrors as exc:
        errors = [f"{path or _('document')}: {message(code)}" for path, code in exc.errors.items()]
        return render_template("admin/config.html", form=form, result=None, errors=errors), 400
    if dry_run:
        form.document.data = text  # keep it for "apply"
        return render_template("admin/config.html", form=form, result=result, errors=[])
    flash(ngettext("Configuration imported: %(num)s change applied.",
                   "Configuration imported: %(num)s changes applied.", len(result.changes))
          if result.changes else _("No differences: nothing to import."), "success")
    return redirect(url_for("admin.config"), 303)
