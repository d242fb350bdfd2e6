"""Progression (§5): ``state`` (tiers, levels, weekly points), ``streaks`` (the streak fold),
``streak_job`` (the nightly streak settlement and bonuses)."""
