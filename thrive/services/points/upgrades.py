"""Tier/level-up rows, notifications and celebrations of an award, queued in its transaction (§5, §9)."""
from __future__ import annotations

from thrive.models import LedgerEntry
from thrive.services.notifications import sending as notifications
from thrive.services.points.locks import AwardTx
from thrive.services.points.registry import Registry


def _notify(tx: AwardTx, learner_id: int, prefs: dict | None, notification_type: str, title: str, *,
            celebration: str | None, body: str | None = None, data: dict | None = None, dedupe_key: str) -> None:
    """Queue the notification (if the learner wants it, §9) and the celebration of an award; written at the
    transaction's next flush, once per dedupe key (as ``notifications.notify``/``celebrate`` do)."""
    if notifications.wants(prefs, notification_type):
        tx.queue("notification", None, dict(learner_id=learner_id, type=notification_type, title=title, body=body,
                                            link="/", data=data, dedupe_key=dedupe_key, read_at=None))
    if celebration:
        tx.queue("celebration", None, dict(learner_id=learner_id, kind=celebration, title=title, body=body,
                                           data=data, dedupe_key=dedupe_key, shown_at=None))


def _record_upgrades(tx: AwardTx, learner_id: int, prefs: dict | None, registry: Registry, entry: LedgerEntry,
                     old_tier: str, tiers_gained: list[str], old_level: int, levels_gained: list[int]) -> None:
    previous = old_tier
    for key in tiers_gained:
        tx.queue("progression", entry, dict(learner_id=learner_id, kind="tier_up", from_value=previous,
                                            to_value=key, occurred_at=entry.occurred_at))
        previous = key
    previous_level = old_level
    for level in levels_gained:
        tx.queue("progression", entry, dict(learner_id=learner_id, kind="level_up", from_value=str(previous_level),
                                            to_value=str(level), occurred_at=entry.occurred_at))
        previous_level = level
    if tiers_gained:
        tier = registry.tier(tiers_gained[-1])
        title = f"You reached {tier.name}! {tier.emoji}".strip()
        key = f"tier_up:{learner_id}:{tier.key}"
        _notify(tx, learner_id, prefs, "tier_up", title, celebration=None, body=tier.tagline,
                data={"tier": tier.key}, dedupe_key=key)
        tx.queue("celebration", None, dict(learner_id=learner_id, kind="tier_up", title=title, body=tier.tagline,
                                           data={"tier": tier.key, "tiers": tiers_gained, "levels": levels_gained},
                                           dedupe_key=key, shown_at=None))
    if levels_gained:
        top = levels_gained[-1]
        title = f"Level {top}!" if len(levels_gained) == 1 else f"Level {top}! Up {len(levels_gained)} levels"
        _notify(tx, learner_id, prefs, "level_up", title, celebration=None if tiers_gained else "level_up",
                data={"levels": levels_gained}, dedupe_key=f"level_up:{learner_id}:{top}")
