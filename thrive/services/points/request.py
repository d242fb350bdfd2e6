"""An award request as ``award()`` checks it, and the :class:`AwardResult` it answers (§4.1, §4.3)."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from thrive.models import LedgerEntry
from thrive.services.errors import EventKeyConflict
from thrive.services.points.events import check_fields, check_instant


@dataclass(frozen=True)
class AwardResult:
    """What an award did (§4.1). Points are integers; ``event_id`` is the ledger entry id.

    ``total_points``/``weekly_points``/``tier``/``level`` are the learner's state
    after the whole award transaction (including any goal bonus it triggered).
    ``levels_gained`` and ``tiers_gained`` list every level/tier crossed.
    """

    points_awarded: int
    capped: bool
    duplicate: bool
    total_points: int
    weekly_points: int
    tier: str
    level: int
    tier_upgraded: bool
    level_upgraded: bool
    event_id: int
    activity_type: str
    event_key: str
    occurred_at: str
    current_streak: int
    levels_gained: list[int] = field(default_factory=list)
    tiers_gained: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        # A flat copy (lists copied): same result as dataclasses.asdict, without its recursion.
        return {name: (list(value) if isinstance(value, list) else value)
                for name, value in ((f, getattr(self, f)) for f in _RESULT_FIELDS)}


_RESULT_FIELDS = tuple(f.name for f in fields(AwardResult))


@dataclass(frozen=True)
class _Request:
    learner_id: int | None
    activity_type: str
    event_key: str
    occurred_at: datetime
    occurred_at_given: bool
    metadata: dict | None
    description: str | None
    points: int | None
    payload_hash: str
    external_id: str | None = None


def _canonical_hash(activity_type: str, occurred_at: datetime | None, metadata, description, points) -> str:
    payload = {
        "activity_type": activity_type,
        "occurred_at": occurred_at.isoformat() if occurred_at else None,
        "metadata": metadata,
        "description": description,
        "points": points,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _build_request(learner_id, activity_type, event_key, occurred_at, metadata, description, points, now,
                   external_id: str | None = None) -> _Request:
    """Check the request with the one event validator (``events.check_fields``/``check_instant``)."""
    metadata = check_fields(activity_type, event_key, metadata, description, points)
    given = occurred_at is not None
    occurred_at = check_instant(occurred_at, now) if given else now
    return _Request(
        learner_id, activity_type, event_key, occurred_at, given, metadata, description, points,
        _canonical_hash(activity_type, occurred_at if given else None, metadata, description, points), external_id,
    )


def _result_from_entry(entry: LedgerEntry, *, duplicate: bool) -> AwardResult:
    stored = dict(entry.result or {})
    stored.update(duplicate=duplicate, event_id=entry.id)
    return AwardResult(**stored)


def _check_existing(existing: LedgerEntry, req: _Request, learner_id: int) -> LedgerEntry:
    if (
        existing.learner_id != learner_id
        or existing.activity_type != req.activity_type
        or existing.payload_hash != req.payload_hash
    ):
        raise EventKeyConflict(
            f"event key {req.event_key!r} was already used for a different learner, activity type or payload"
        )
    return existing
