"""Building the demo community (``flask thrive demo``, §14): arguments, order of the steps, summary.

Owns :func:`build_demo` — the one entry point, which checks its arguments and
that the database is empty, then runs the steps in their fixed order on one
``random.Random(seed)`` (people, follows, quest states, awards, cheers,
achievement states, notification dates) — and the :class:`DemoSummary` it
returns to the CLI.
"""
from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select

from thrive.extensions import db
from thrive.models import Learner
from thrive.services.errors import Conflict, ThriveError, ValidationError
from thrive.services.ingest.batches import ImportSummary, award_in_batches
from thrive.services.quests import demo as quest_demo
from thrive.timeutil import as_utc, local_date, platform_timezone_name, utcnow

from .activity import _instant, _plan_awards
from .people import ADMIN_PASSWORD, ADMIN_USERNAME, DEMO_PASSWORD, DEMO_USERNAME, _create_people, _fakers
from .social import _cheer_some, _follow_all

DEFAULT_LEARNERS = 300
DEFAULT_WEEKS = 6
DEFAULT_SEED = 2026
MAX_LEARNERS = 5000
MAX_WEEKS = 26

Progress = Callable[[int], None]


@dataclass
class DemoSummary:
    """What :func:`build_demo` created; ``awards`` holds the award counts (awarded, capped…)."""

    seed: int
    weeks: int
    learners: int = 0
    follows: int = 0
    cheers: int = 0
    awards: ImportSummary = field(default_factory=ImportSummary)

    def lines(self) -> list[str]:
        """Human summary for the CLI."""
        a = self.awards
        return [
            f"Demo community (seed {self.seed}, {self.weeks} weeks of activity):",
            f"  learners:  {self.learners:,} (plus {ADMIN_USERNAME!r} and {DEMO_USERNAME!r})",
            f"  follows:   {self.follows:,}",
            f"  awards:    {a.awarded:,} awarded ({a.points:,} points), {a.capped:,} capped, "
            f"{a.rejected:,} rejected",
            f"  cheers:    {self.cheers:,}",
            f"Sign in as {ADMIN_USERNAME} / {ADMIN_PASSWORD} (admin) or {DEMO_USERNAME} / {DEMO_PASSWORD} (learner).",
        ]


def community_is_empty() -> bool:
    """True when no learner exists (``demo --if-empty`` does nothing otherwise)."""
    return db.session.scalar(select(Learner.id).limit(1)) is None


def build_demo(
    *,
    learners: int = DEFAULT_LEARNERS,
    weeks: int = DEFAULT_WEEKS,
    seed: int = DEFAULT_SEED,
    now: datetime | None = None,
    progress: Progress | None = None,
    on_total: Callable[[int], None] | None = None,
) -> DemoSummary:
    """Build the demo community in an empty database (§14).

    Args:
        learners: synthetic learners besides ``admin`` and ``demo`` (0–5,000).
        weeks: weeks of activity before ``now`` (1–26).
        seed: the random seed; the same seed and ``now`` give the same community.
        now: the current instant (tests); defaults to the clock.
        progress / on_total: progress callbacks (awards done per batch / awards planned).

    Returns a :class:`DemoSummary`.

    Raises ``ValidationError`` for out-of-range arguments and ``Conflict``
    (``not_empty``) when any learner exists already (nothing is written).
    """
    if not 0 <= learners <= MAX_LEARNERS:
        raise ValidationError(f"learners must be between 0 and {MAX_LEARNERS}")
    if not 1 <= weeks <= MAX_WEEKS:
        raise ValidationError(f"weeks must be between 1 and {MAX_WEEKS}")
    existing = db.session.scalar(select(func.count(Learner.id))) or 0
    if existing:
        raise Conflict(f"the demo needs an empty database, but {existing:,} learner(s) exist "
                       "(use --if-empty to skip quietly)", code="not_empty")
    now = as_utc(now) if now else utcnow()
    rng = random.Random(seed)
    today = local_date(now, platform_timezone_name())
    first_day = today - timedelta(days=weeks * 7 - 1)
    summary = DemoSummary(seed=seed, weeks=weeks)
    try:
        people = _create_people(rng, _fakers(seed), learners, first_day, today)
    except ThriveError:
        db.session.rollback()
        raise
    summary.learners = learners
    summary.follows = _follow_all(rng, people, now)
    quest_demo.before_awards(people, _instant(first_day, platform_timezone_name(), 0, 0), now, seed, DEMO_USERNAME)
    requests = _plan_awards(rng, people, first_day, now)
    if on_total:
        on_total(len(requests))
    award_in_batches([(i + 1, r) for i, r in enumerate(requests)], summary.awards, batch_size=500, now=now,
                     progress=progress)
    summary.awards.rows_read = len(requests)
    summary.cheers = _cheer_some(rng, people, now, wanted=max(10, learners // 2))
    quest_demo.after_awards(people, now, DEMO_USERNAME)  # achievements backfilled from the ledger (§10)
    _date_notifications()
    return summary


def _date_notifications() -> None:
    """Date tier-up and level-up notifications at the award that caused them (issue 11: the demo's
    notifications are spread over its weeks, not all stamped with the moment the demo was built)."""
    from thrive.models import Notification, ProgressionEvent

    when = {(e.learner_id, e.kind, e.to_value): e.occurred_at for e in db.session.scalars(
        select(ProgressionEvent).where(ProgressionEvent.kind.in_(("tier_up", "level_up"))))}
    for note in db.session.scalars(select(Notification).where(Notification.type.in_(("tier_up", "level_up")))):
        data = note.data or {}
        value = data.get("tier") if note.type == "tier_up" else str(max(data.get("levels") or [0]))
        at = when.get((note.learner_id, note.type, value))
        if at is not None:
            note.created_at = at
    db.session.commit()
