"""Batches of awards: ``award_many`` and the event batch service of the API and importers (§4.1, §13, §15).

:func:`award_many` applies a batch through the same ``_award_locked`` as
``award()``, in one transaction, set-based where the rules allow: every
learner of the batch is locked by one statement (in id order), the event
keys are looked up by one, the cap counts of the batch's learners and capped
activity types come from one grouped query and are then kept in memory, and
the ledger rows go in as multi-row inserts (an entry is written at once only
when a hook applies to it or a tier/level-up row refers to it).

:func:`award_events` is the batch orchestration of raw events (the API's
``POST /events/batch`` and ``flask thrive import``): validate each with the
one event validator, resolve external ids inside the batch's locking
statement, award, and answer one outcome per event in order.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from thrive import metrics
from thrive.db import write_transaction
from thrive.services.errors import ThriveError
from thrive.services.points.award import (
    AwardResult,
    _award_locked,
    _build_request,
    _cap_kinds,
    _result_from_entry,
    _settle_due_goals,
    _take_due_goals,
    award,
)
from thrive.services.points.events import EventInput, parse_event
from thrive.services.points.locks import award_tx, end_award_tx
from thrive.timeutil import as_utc, utcnow


@dataclass(frozen=True)
class AwardRequest:
    """One award for :func:`award_many`: same fields as :func:`award`'s arguments.

    Give ``learner_id``, or ``external_id`` with ``learner_id=None`` (resolved in the batch's lock).
    """

    learner_id: int | None
    activity_type: str
    event_key: str
    occurred_at: datetime | None = None
    metadata: dict | None = None
    description: str | None = None
    points: int | None = None
    external_id: str | None = None


class _DryRun(Exception):
    """Raised inside the transaction of a dry run so that it rolls back."""


def prepare_awards(items: Sequence[AwardRequest], *, now: datetime) -> list[object]:
    """Validate and hash a batch's requests, outside any transaction (the part of :func:`award_many` a
    :class:`~thrive.db.WriteSlicer` runs during its pause): one checked request or ``ThriveError`` per item."""
    now = as_utc(now)
    outcomes: list[object] = []
    for item in items:
        try:
            outcomes.append(_build_request(item.learner_id, item.activity_type, item.event_key, item.occurred_at,
                                           item.metadata, item.description, item.points, now, item.external_id))
        except ThriveError as exc:
            outcomes.append(exc)
    return outcomes


def award_many(items: Sequence[AwardRequest], *, now: datetime | None = None, dry_run: bool = False,
               prepared: Sequence[object] | None = None) -> list[AwardResult | ThriveError]:
    """Award a batch through the same code path as :func:`award`, in one transaction (§4.1).

    Each item gets its :class:`AwardResult` or the :class:`ThriveError` that
    rejected it (validation, unknown learner or type, disabled, out of range,
    key conflict) — a rejected item writes nothing and does not affect the
    others, because every check runs before its entry is queued. Items are
    applied in order, so a repeated event key inside one batch answers as a
    duplicate of the earlier item. With ``dry_run`` everything is computed
    (caps included) and the transaction is rolled back. If the database
    refuses the batch (a concurrent writer took an event key first), it is
    retried item by item through :func:`award`. ``prepared`` is :func:`prepare_awards` of ``items``
    at the same ``now``, when the caller ran it already.
    """
    now = as_utc(now) if now else utcnow()
    outcomes = prepare_awards(items, now=now) if prepared is None else list(prepared)
    requests = [r for r in outcomes if not isinstance(r, ThriveError)]
    results: list[AwardResult | ThriveError] = []
    try:
        with write_transaction() as session:
            try:
                tx = award_tx(session)
                if requests:
                    _prefetch(tx, requests)
                applied = []
                for req in outcomes:
                    if isinstance(req, ThriveError):
                        applied.append(req)
                        continue
                    try:
                        applied.append(_award_locked(session, req, 0, now, write_now=False))
                    except ThriveError as exc:
                        applied.append(exc)
                tx.flush()
                results = [a if isinstance(a, ThriveError) else _result_from_entry(a[0], duplicate=a[1])
                           for a in applied]
                if dry_run:
                    raise _DryRun
            finally:
                due_goals = _take_due_goals(session)
                end_award_tx(session)
        _settle_due_goals(due_goals)
        _count(items, results)
        return results
    except _DryRun:
        return results
    except IntegrityError:
        if dry_run:
            raise
        out: list[AwardResult | ThriveError] = []
        for item in items:
            try:
                out.append(award(item.learner_id, item.activity_type, event_key=item.event_key,
                                 occurred_at=item.occurred_at, metadata=item.metadata,
                                 description=item.description, points=item.points, now=now,
                                 external_id=item.external_id))
            except ThriveError as exc:
                out.append(exc)
        return out


def _count(items, results) -> None:
    """Awards by outcome for the metrics, one increment per type and outcome (the retry path counts through
    ``award()``)."""
    counts: Counter = Counter()
    for item, result in zip(items, results, strict=True):
        if isinstance(result, AwardResult):
            outcome = "duplicate" if result.duplicate else "capped" if result.capped else "awarded"
            counts[(result.activity_type, outcome)] += 1
        else:
            counts[(item.activity_type, "rejected")] += 1
    for (activity_type, outcome), n in counts.items():
        metrics.record_award(activity_type, outcome, n)


def _prefetch(tx, requests) -> None:
    """One lock statement, one event-key lookup and one grouped cap count for the whole batch."""
    tx.lock_many((r.learner_id for r in requests if r.learner_id is not None),
                 (r.external_id for r in requests if r.learner_id is None))
    tx.load_keys(r.event_key for r in requests)
    requests = [r for r in requests if tx.keys.get(r.event_key) is None]  # duplicates need no cap counts
    rules = tx.registry().rules
    capped_types = {t for t in {r.activity_type for r in requests} if t in rules and _cap_kinds(rules[t])}
    pairs = {(r.learner_id if r.learner_id is not None else tx.by_external.get(r.external_id), r.activity_type)
             for r in requests if r.activity_type in capped_types}
    tx.load_caps(pair for pair in pairs if pair[0] is not None)


def award_events(events: Sequence, *, now: datetime | None = None,
                 dry_run: bool = False) -> list[AwardResult | ThriveError]:
    """Validate and award raw events (the JSON shape of §13, ``user`` = external id) as one batch.

    ``events`` items are dicts (validated with :func:`parse_event`), already
    parsed :class:`EventInput` objects, or a :class:`ThriveError` standing for
    an item the caller could not read (answered as is). Returns one outcome per
    event, in order: an :class:`AwardResult` or the :class:`ThriveError`
    (``unknown_user`` 404 for an external id without a learner).
    """
    outcomes: list[object] = []
    for raw in events:
        if isinstance(raw, ThriveError):
            outcomes.append(raw)
            continue
        try:
            outcomes.append(raw if isinstance(raw, EventInput) else parse_event(raw))
        except ThriveError as exc:
            outcomes.append(exc)
    pending = [(i, e) for i, e in enumerate(outcomes) if isinstance(e, EventInput)]
    if pending:
        results = award_many([AwardRequest(None, e.activity_type, e.event_key, e.occurred_at, e.metadata,
                                           e.description, e.points, external_id=e.user) for _, e in pending],
                             now=now, dry_run=dry_run)
        for (index, _event), result in zip(pending, results, strict=True):
            outcomes[index] = result
    return outcomes  # type: ignore[return-value]
