"""Data subject requests from the admin area (§11, issue 10): export and erase a learner, audited.

Admins only (the admin blueprint's guard keeps moderators out). Each action
appends exactly one audit entry (:func:`thrive.services.admin.audit.record`):
``learner.export`` with the rows per section, ``learner.erase`` with the
learner's internal id and the number of anonymous ledger entries kept —
never the erased username, name, email or external id.
"""
from __future__ import annotations

from thrive.db import write_transaction
from thrive.extensions import db
from thrive.models import Learner
from thrive.services.accounts.data_requests import Erasure, erase_learner
from thrive.services.admin.audit import record
from thrive.services.errors import NotFound, ValidationError


def record_export(actor: Learner, learner_id: int, counts: dict[str, int]) -> None:
    """Append the ``learner.export`` audit entry of ``actor`` downloading ``learner_id``'s data.

    ``counts`` maps each export section to its number of rows (no personal data).
    """
    with write_transaction() as session:
        record(actor, "learner.export", "learner", learner_id, None, {"rows": dict(counts)}, session=session)


def erase(actor: Learner, learner_id: int, confirmation: str) -> Erasure:
    """Erase ``learner_id`` for ``actor`` after they typed the learner's username as ``confirmation``.

    The erasure and its one audit entry commit together. Raises ``NotFound``
    (no such learner, or already erased), ``ValidationError`` with code
    ``confirmation_mismatch`` (the typed username differs, compared without
    case and surrounding spaces) or ``self_erasure`` (staff erase their own
    account from their settings, with their password).
    """
    learner = db.session.get(Learner, learner_id)
    if learner is None or learner.erased_at is not None:
        raise NotFound("no such learner (or already erased)")
    if learner.id == actor.id:
        raise ValidationError("you cannot erase your own account here; use your settings",
                              code="self_erasure")
    if (confirmation or "").strip().lower() != learner.username.lower():
        raise ValidationError("type the learner's username exactly to confirm", code="confirmation_mismatch")
    db.session.commit()  # end the read transaction; the erasure opens its own write transaction

    def audit(session, kept: int) -> None:
        record(actor, "learner.erase", "learner", learner_id, None, {"erased": True, "ledger_entries_kept": kept},
               session=session)

    return erase_learner(learner_id, within=audit)
