"""Admin → a learner's data subject requests (§11, issue 10): download their data, erase their account.

Admins only: these endpoints are not in the moderators' list, so the
blueprint's one guard answers 403 to moderators (and to learners). The ZIP is
the same as the learner's own download (:func:`thrive.web.data_export.build_export`);
the erasure needs the learner's username typed again and a POST with CSRF.
Each action writes one audit entry (``services/admin/data_requests.py``).
"""
from __future__ import annotations

from flask import flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from thrive.services.admin import data_requests as service
from thrive.services.errors import NotFound, ThriveError

from ..data_export import build_export
from ..i18n import number as format_number
from . import bp
from .forms import EraseLearnerForm
from .labels import error_message
from .learners import _learner_or_404, _render_learner


@bp.route("/learners/<int:learner_id>/export")
def learner_export(learner_id: int):
    """Download the learner's data (ZIP of JSON + CSV and an index.html); audited as ``learner.export``."""
    learner = _learner_or_404(learner_id)
    try:
        export = build_export(learner.id)
    except ThriveError as exc:  # an erased learner has no data left to export
        flash(error_message(exc), "error")
        return redirect(url_for("admin.learner", learner_id=learner.id), 303)
    service.record_export(current_user, learner.id, export.counts)
    return export.download()


@bp.route("/learners/<int:learner_id>/erase", methods=["POST"])
def learner_erase(learner_id: int):
    """Erase the learner's account once the admin typed their username; audited as ``learner.erase``."""
    learner = _learner_or_404(learner_id)
    form = EraseLearnerForm()
    if form.validate_on_submit():
        try:
            result = service.erase(current_user, learner.id, form.confirm_username.data)
        except NotFound:
            flash(_("That account has already been erased."), "info")
            return redirect(url_for("admin.learner", learner_id=learner_id), 303)
        except ThriveError as exc:
            form.confirm_username.errors.append(error_message(exc))
        else:
            flash(_("Account #%(id)s erased: personal data removed, %(kept)s ledger entries kept as anonymous amounts.",
                    id=learner_id, kept=format_number(result.ledger_entries_kept)), "success")
            return redirect(url_for("admin.learner", learner_id=learner_id), 303)
    return _render_learner(learner, erase_form=form, status=400)
