"""Admin → audit log (§11): every staff action, paged, filterable (actor, action, dates), CSV download."""
from __future__ import annotations

from datetime import date

from flask import Response, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from thrive.services.admin import audit as service

from . import bp
from .nav import ADMINS, NAV, NavItem

NAV.append(NavItem("admin.audit", _l("Audit log"), ADMINS))


def _date_arg(name: str, errors: dict) -> date | None:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[name] = _("Use a date like 2026-03-08.")
        return None


def _filter() -> tuple[service.AuditFilter, dict]:
    errors: dict[str, str] = {}
    flt = service.AuditFilter(actor=(request.args.get("actor") or "").strip() or None,
                              action=(request.args.get("action") or "").strip() or None,
                              since=_date_arg("since", errors), until=_date_arg("until", errors))
    if flt.since and flt.until and flt.since > flt.until:
        errors["until"] = _("The end date is before the start date.")
    return flt, errors


@bp.route("/audit")
def audit():
    flt, errors = _filter()
    page = service.page(flt, request.args.get("page", 1, type=int) or 1)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("admin/audit.html", page=page, flt=flt, errors=errors, actions=service.actions(),
                           args=args), 400 if errors else 200


@bp.route("/audit.csv")
def audit_csv():
    flt, errors = _filter()
    if errors:
        return Response("; ".join(errors.values()) + "\n", status=400, mimetype="text/plain")
    return Response(service.export_csv(flt), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=thrive-audit.csv"})
