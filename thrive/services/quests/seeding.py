"""Seeding the default side quests and achievements (``flask thrive seed``, §10, §12)."""
from __future__ import annotations


def seed_quests_and_achievements() -> dict[str, int]:
    """Insert the missing default quests and achievements (by key); never overwrites admin edits.

    Returns ``{"side_quests": n, "achievements": m}`` (rows inserted). Learners who
    already meet a new achievement get it from ``flask thrive grant-achievements``.
    """
    from thrive.services.achievements.catalog import seed_achievements
    from thrive.services.quests.catalog import seed_quests

    return {"side_quests": seed_quests(), "achievements": seed_achievements()}
