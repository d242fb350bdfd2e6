"""Feed moderation (§8.1, §11): learners report feed items; moderators hide, unhide, dismiss.

- :func:`report_item` — a learner reports a visible feed item with a reason
  (one report per learner and item; not their own items).
- :func:`moderation_queue` — open reports grouped by item, oldest first.
- :func:`hide_item` / :func:`unhide_item` / :func:`hide_all` / :func:`dismiss_reports`
  — staff actions: each writes its change, a :class:`ModerationAction`
  (the learner's moderation history) and exactly one audit entry in one
  transaction. Hiding sends the learner one neutral notification.

A hidden item is left out of every feed, profile and circle panel and refuses
cheers (``feed.not_hidden``); its points stay — moderation never touches the
ledger (§4.4).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, update

from thrive.db import write_transaction
from thrive.extensions import db
from thrive.models import (
    FeedReport,
    HiddenFeedItem,
    Learner,
    LedgerEntry,
    ModerationAction,
    Notification,
    ProgressionEvent,
)
from thrive.models.moderation import FEED_ITEM_KINDS
from thrive.services.admin.audit import record
from thrive.services.community.cheers import cheer_target
from thrive.services.community.feed import HIDDEN_ACTIVITY_TYPES, _topic
from thrive.services.community.feed_items import Actor
from thrive.services.errors import Conflict, NotFound, ValidationError
from thrive.services.points.registry import load_registry
from thrive.timeutil import as_utc, utcnow

#: Reasons a learner may give (the web layer labels them).
REPORT_REASONS = ("spam", "offensive", "harassment", "personal_info", "other")
MAX_DETAILS = 500
#: Notification type of the neutral notice sent when items are hidden. It is a
#: service notice rather than a §9 preference type, so it is always delivered.
NOTICE_TYPE = "moderation"


def _check_kind(target_kind: str, target_id) -> None:
    if target_kind not in FEED_ITEM_KINDS:
        raise ValidationError("target kind must be 'entry' or 'tier_up'", code="invalid_target")
    if isinstance(target_id, bool) or not isinstance(target_id, int) or target_id <= 0:
        raise ValidationError("target id must be a positive integer", code="invalid_target")


def report_item(reporter_id: int, target_kind: str, target_id: int, reason: str, details: str | None = None,
                *, now: datetime | None = None) -> FeedReport:
    """Record a learner's report of a feed item they can see (§11 feed moderation).

    Raises ``ValidationError`` (bad kind/id, ``invalid_reason``, ``details_too_long``,
    ``cannot_report_self``), ``NotFound`` (no such visible item, or already hidden),
    ``Conflict`` (``already_reported``: this learner has an open report on it).
    """
    _check_kind(target_kind, target_id)
    if reason not in REPORT_REASONS:
        raise ValidationError("choose a reason", code="invalid_reason")
    details = (details or "").strip() or None
    if details and len(details) > MAX_DETAILS:
        raise ValidationError(f"details are longer than {MAX_DETAILS} characters", code="details_too_long")
    subject = cheer_target(target_kind, target_id)  # visible and not hidden, else NotFound
    if subject.id == reporter_id:
        raise ValidationError("you cannot report your own activity", code="cannot_report_self")
    subject_id = subject.id
    now = as_utc(now) if now else utcnow()
    with write_transaction() as session:
        existing = session.scalar(select(FeedReport).where(
            FeedReport.reporter_id == reporter_id, FeedReport.target_kind == target_kind,
            FeedReport.target_id == target_id))
        if existing is not None:
            raise Conflict("you already reported this", code="already_reported")
        report = FeedReport(reporter_id=reporter_id, subject_id=subject_id, target_kind=target_kind,
                            target_id=target_id, reason=reason, details=details, created_at=now)
        session.add(report)
    return report


@dataclass(frozen=True)
class ItemSubject:
    """What a feed item is about, as data for the web layer's feed phrases (``item_predicate``).

    ``kind`` is ``"entry"`` or ``"tier_up"``; ``activity_type``/``topic`` for entries, ``tier`` for tier-ups.
    """

    kind: str
    activity_type: str | None = None
    topic: str | None = None
    tier: object | None = None


@dataclass
class QueueItem:
    """One reported feed item in the queue: who it belongs to, what it says, why it was reported.

    ``subject`` is what the item is about (None when it no longer exists); ``reasons``
    counts reports per reason; ``details`` the reporters' free texts.
    """

    target_kind: str
    target_id: int
    subject_id: int
    subject_username: str
    subject_name: str
    subject: ItemSubject | None
    occurred_at: datetime | None
    reports: int
    first_reported_at: datetime
    hidden: bool
    reasons: dict[str, int] = field(default_factory=dict)
    details: list[str] = field(default_factory=list)


def reportable_item(target_kind: str, target_id: int) -> tuple[Actor, ItemSubject]:
    """The feed item a report form is about, as the reporter sees it in the feed: (its actor, what it says).

    Only an item any learner can see is described (feed-visible, in the feed's window, not hidden —
    :func:`~thrive.services.community.cheers.cheer_target`), so the form never reveals a non-sharing
    learner's activity (§8.4). Raises ``NotFound`` otherwise, or for a bad kind or id.
    """
    try:
        _check_kind(target_kind, target_id)
    except ValidationError as exc:
        raise NotFound("no such feed item") from exc
    learner = cheer_target(target_kind, target_id)
    subject, _at = _subjects({(target_kind, target_id)})[(target_kind, target_id)]
    return Actor(learner.id, learner.username, learner.display_name, learner.share_profile), subject


def _subjects(items: set[tuple[str, int]]) -> dict[tuple[str, int], tuple[ItemSubject, datetime | None]]:
    out: dict[tuple[str, int], tuple[ItemSubject, datetime | None]] = {}
    entry_ids = [i for k, i in items if k == "entry"]
    tier_ids = [i for k, i in items if k == "tier_up"]
    if entry_ids:
        for eid, activity_type, meta, at in db.session.execute(
                select(LedgerEntry.id, LedgerEntry.activity_type, LedgerEntry.meta, LedgerEntry.occurred_at)
                .where(LedgerEntry.id.in_(entry_ids))):
            out[("entry", eid)] = (ItemSubject("entry", activity_type, _topic(meta)), as_utc(at))
    if tier_ids:
        registry = load_registry()
        for pid, key, at in db.session.execute(
                select(ProgressionEvent.id, ProgressionEvent.to_value, ProgressionEvent.occurred_at)
                .where(ProgressionEvent.id.in_(tier_ids))):
            out[("tier_up", pid)] = (ItemSubject("tier_up", tier=registry.tier(key)), as_utc(at))
    return out


def moderation_queue(limit: int = 100) -> list[QueueItem]:
    """Open reports grouped by feed item, the longest-waiting first (at most ``limit`` items)."""
    rows = db.session.execute(
        select(FeedReport, Learner.username, Learner.display_name)
        .join(Learner, Learner.id == FeedReport.subject_id)
        .where(FeedReport.resolved_at.is_(None))
        .order_by(FeedReport.created_at, FeedReport.id)
    ).all()
    by_item: dict[tuple[str, int], QueueItem] = {}
    for report, username, display_name in rows:
        key = (report.target_kind, report.target_id)
        item = by_item.get(key)
        if item is None:
            if len(by_item) >= limit:
                continue
            item = by_item[key] = QueueItem(report.target_kind, report.target_id, report.subject_id, username,
                                            display_name, None, None, 0, as_utc(report.created_at), False)
        item.reports += 1
        item.reasons[report.reason] = item.reasons.get(report.reason, 0) + 1
        if report.details:
            item.details.append(report.details)
    hidden = _hidden_set(set(by_item))
    for key, (subject, at) in _subjects(set(by_item)).items():
        by_item[key].subject, by_item[key].occurred_at = subject, at
    for key, item in by_item.items():
        item.hidden = key in hidden
    db.session.commit()
    return list(by_item.values())


def _hidden_set(items: set[tuple[str, int]]) -> set[tuple[str, int]]:
    out = set()
    for kind in FEED_ITEM_KINDS:
        ids = [i for k, i in items if k == kind]
        if ids:
            out |= {(kind, i) for i in db.session.scalars(
                select(HiddenFeedItem.target_id).where(HiddenFeedItem.target_kind == kind,
                                                       HiddenFeedItem.target_id.in_(ids)))}
    return out


def _owner(session, target_kind: str, target_id: int) -> int:
    """The learner a feed item belongs to (hidden or not); raises ``NotFound``."""
    model = LedgerEntry if target_kind == "entry" else ProgressionEvent
    learner_id = session.scalar(select(model.learner_id).where(model.id == target_id))
    if learner_id is None:
        raise NotFound("no such feed item")
    return learner_id


def _resolve(session, actor: Learner, where, resolution: str, now: datetime) -> int:
    result = session.execute(update(FeedReport).where(FeedReport.resolved_at.is_(None), *where)
                             .values(resolved_at=now, resolved_by_id=actor.id, resolution=resolution))
    return result.rowcount or 0


def _notify_hidden(session, learner_id: int, count: int, now: datetime) -> None:
    """The neutral notice (no reasons, no reporter): what happened and that points are untouched."""
    title = ("One of your posts in the community feed was hidden" if count == 1
             else "Some of your posts in the community feed were hidden")
    session.add(Notification(learner_id=learner_id, type=NOTICE_TYPE, title=title,
                             body="A moderator hid it from the community. Your points are not affected.",
                             data={"count": count}, created_at=now))


@dataclass(frozen=True)
class ModerationResult:
    """What a moderation action did: items hidden/unhidden, reports resolved."""

    learner_id: int
    items: int
    reports_resolved: int


def hide_item(actor: Learner, target_kind: str, target_id: int, *, note: str | None = None,
              now: datetime | None = None) -> ModerationResult:
    """Hide one feed item (§11): out of every feed and panel, no more cheers; points stay.

    Resolves the item's open reports as ``hidden``, records the learner's
    moderation history, notifies the learner neutrally, writes one audit entry
    (``feed.hide``). Raises ``ValidationError``, ``NotFound``, ``Conflict`` (``already_hidden``).
    """
    _check_kind(target_kind, target_id)
    now = as_utc(now) if now else utcnow()
    with write_transaction() as session:
        learner_id = _owner(session, target_kind, target_id)
        if session.scalar(select(HiddenFeedItem.id).where(HiddenFeedItem.target_kind == target_kind,
                                                          HiddenFeedItem.target_id == target_id)):
            raise Conflict("this item is already hidden", code="already_hidden")
        session.add(HiddenFeedItem(target_kind=target_kind, target_id=target_id, learner_id=learner_id,
                                   hidden_by_id=actor.id, hidden_at=now))
        resolved = _resolve(session, actor, (FeedReport.target_kind == target_kind,
                                             FeedReport.target_id == target_id), "hidden", now)
        session.add(ModerationAction(learner_id=learner_id, moderator_id=actor.id, action="hide",
                                     target_kind=target_kind, target_id=target_id, count=1, note=note,
                                     created_at=now))
        _notify_hidden(session, learner_id, 1, now)
        record(actor, "feed.hide", f"feed_{target_kind}", target_id, {"hidden": False},
               {"hidden": True, "learner_id": learner_id, "reports_resolved": resolved, "note": note},
               session=session)
    return ModerationResult(learner_id, 1, resolved)


def unhide_item(actor: Learner, target_kind: str, target_id: int, *, now: datetime | None = None
                ) -> ModerationResult:
    """Show a hidden item again; one audit entry (``feed.unhide``). Raises ``NotFound`` when it is not hidden."""
    _check_kind(target_kind, target_id)
    now = as_utc(now) if now else utcnow()
    with write_transaction() as session:
        row = session.scalar(select(HiddenFeedItem).where(HiddenFeedItem.target_kind == target_kind,
                                                          HiddenFeedItem.target_id == target_id))
        if row is None:
            raise NotFound("this item is not hidden", code="not_hidden")
        learner_id = row.learner_id
        session.delete(row)
        session.add(ModerationAction(learner_id=learner_id, moderator_id=actor.id, action="unhide",
                                     target_kind=target_kind, target_id=target_id, count=1, created_at=now))
        record(actor, "feed.unhide", f"feed_{target_kind}", target_id, {"hidden": True},
               {"hidden": False, "learner_id": learner_id}, session=session)
    return ModerationResult(learner_id, 1, 0)


def _feed_worthy_ids(session, learner_id: int) -> tuple[list[int], list[int]]:
    """Ids of the learner's entries and tier-ups that feeds could show and that are not hidden yet."""
    hidden = {(k, i) for k, i in session.execute(
        select(HiddenFeedItem.target_kind, HiddenFeedItem.target_id).where(HiddenFeedItem.learner_id == learner_id))}
    entries = [i for i in session.scalars(select(LedgerEntry.id).where(
        LedgerEntry.learner_id == learner_id, LedgerEntry.points > 0, LedgerEntry.capped.is_(False),
        LedgerEntry.activity_type.not_in(sorted(HIDDEN_ACTIVITY_TYPES)))) if ("entry", i) not in hidden]
    tier_ups = [i for i in session.scalars(select(ProgressionEvent.id).where(
        ProgressionEvent.learner_id == learner_id, ProgressionEvent.kind == "tier_up")) if ("tier_up", i) not in hidden]
    return entries, tier_ups


def hide_all(actor: Learner, learner_id: int, *, note: str | None = None, now: datetime | None = None
             ) -> ModerationResult:
    """Hide every feed item of one learner written so far (§11); one audit entry (``feed.hide_all``).

    Resolves all open reports about the learner as ``hidden`` and sends one
    neutral notification (when something was hidden). Raises ``NotFound``.
    """
    now = as_utc(now) if now else utcnow()
    with write_transaction() as session:
        if session.get(Learner, learner_id) is None:
            raise NotFound("no such learner")
        entries, tier_ups = _feed_worthy_ids(session, learner_id)
        for kind, ids in (("entry", entries), ("tier_up", tier_ups)):
            session.add_all([HiddenFeedItem(target_kind=kind, target_id=i, learner_id=learner_id,
                                            hidden_by_id=actor.id, hidden_at=now) for i in ids])
        count = len(entries) + len(tier_ups)
        resolved = _resolve(session, actor, (FeedReport.subject_id == learner_id,), "hidden", now)
        session.add(ModerationAction(learner_id=learner_id, moderator_id=actor.id, action="hide_all",
                                     count=count, note=note, created_at=now))
        if count:
            _notify_hidden(session, learner_id, count, now)
        record(actor, "feed.hide_all", "learner", learner_id, None,
               {"hidden_items": count, "reports_resolved": resolved, "note": note}, session=session)
    return ModerationResult(learner_id, count, resolved)


def dismiss_reports(actor: Learner, target_kind: str, target_id: int, *, now: datetime | None = None
                    ) -> ModerationResult:
    """Close an item's open reports without hiding it; one audit entry (``feed.dismiss``).

    Raises ``NotFound`` when the item has no open report.
    """
    _check_kind(target_kind, target_id)
    now = as_utc(now) if now else utcnow()
    with write_transaction() as session:
        learner_id = _owner(session, target_kind, target_id)
        resolved = _resolve(session, actor, (FeedReport.target_kind == target_kind,
                                             FeedReport.target_id == target_id), "dismissed", now)
        if not resolved:
            raise NotFound("this item has no open report", code="no_open_report")
        session.add(ModerationAction(learner_id=learner_id, moderator_id=actor.id, action="dismiss",
                                     target_kind=target_kind, target_id=target_id, count=resolved,
                                     created_at=now))
        record(actor, "feed.dismiss", f"feed_{target_kind}", target_id, None,
               {"learner_id": learner_id, "reports_resolved": resolved}, session=session)
    return ModerationResult(learner_id, 0, resolved)


@dataclass
class History:
    """A learner's moderation history: actions taken (newest first), reports about them, items hidden now."""

    learner: Learner
    actions: list[ModerationAction]
    reports_by_reason: dict[str, int]
    open_reports: int
    hidden_now: int


def history(learner_id: int) -> History:
    """The moderation history of one learner (§11). Raises ``NotFound``."""
    learner = db.session.get(Learner, learner_id)
    if learner is None:
        raise NotFound("no such learner")
    actions = list(db.session.scalars(select(ModerationAction).where(ModerationAction.learner_id == learner_id)
                                      .order_by(ModerationAction.created_at.desc(), ModerationAction.id.desc())))
    reports = db.session.execute(select(FeedReport.reason, FeedReport.resolved_at)
                                 .where(FeedReport.subject_id == learner_id)).all()
    hidden_now = len(list(db.session.scalars(select(HiddenFeedItem.id)
                                             .where(HiddenFeedItem.learner_id == learner_id))))
    return History(learner, actions, dict(Counter(r for r, _ in reports)),
                   sum(1 for _, at in reports if at is None), hidden_now)


@dataclass(frozen=True)
class HiddenItem:
    """A hidden feed item of a learner, with what it is about (for the history page's "unhide")."""

    target_kind: str
    target_id: int
    subject: ItemSubject | None
    occurred_at: datetime | None
    hidden_at: datetime


def hidden_items(learner_id: int, limit: int = 200) -> list[HiddenItem]:
    """The learner's hidden feed items, most recently hidden first (at most ``limit``)."""
    rows = db.session.scalars(select(HiddenFeedItem).where(HiddenFeedItem.learner_id == learner_id)
                              .order_by(HiddenFeedItem.hidden_at.desc(), HiddenFeedItem.id.desc()).limit(limit)).all()
    subjects = _subjects({(r.target_kind, r.target_id) for r in rows})
    out = [HiddenItem(r.target_kind, r.target_id, *subjects.get((r.target_kind, r.target_id), (None, None)),
                      as_utc(r.hidden_at)) for r in rows]
    db.session.commit()
    return out
