"""A synthetic, seeded demo community (``flask thrive demo``, §14).

So that a fresh clone shows a living app without any download, this builds:

- the admin account ``admin`` / ``thrive-admin`` and the learner ``demo`` /
  ``thrive-demo`` (printed by ``make run``);
- N learners with realistic names (Faker, seeded) from a dozen countries, in
  their countries' IANA time zones, with topics and a privacy mix (most share
  everything; some keep activities, tier-ups or the profile to themselves);
- follows (through ``follows.follow``, so people get their ``new_follower``
  notifications), preferring people with shared topics;
- several weeks of varied activity through ``award_many`` (the batch form of
  ``award()``, §4.1): onboarding, daily logins, quizzes with topics,
  difficulty and scores, projects created/updated/published, comments,
  feedback, events, battles, scavenger hunts, weekly challenges — each
  learner following a persona (regular, steady, casual, newcomer, lapsed) at
  plausible local hours of their own time zone;
- a few cheers on recent feed items (through ``community.cheer``);
- side quests and achievements in every state (``services.quests.demo``).

Everything is derived from one ``random.Random(seed)`` and Faker instances
seeded from it, relative to ``now``: the same seed and ``now`` give the same
community. Nothing here writes points except through ``award()``.

Modules: ``people`` (accounts and synthetic learners), ``activity`` (the
planned awards), ``social`` (follows and cheers) and ``build`` (the entry
point that runs them in order); the side quest and achievement states are
``services.quests.demo``.
"""
from .build import (
    DEFAULT_LEARNERS,
    DEFAULT_SEED,
    DEFAULT_WEEKS,
    MAX_LEARNERS,
    MAX_WEEKS,
    DemoSummary,
    Progress,
    build_demo,
    community_is_empty,
)
from .people import ADMIN_PASSWORD, ADMIN_USERNAME, DEMO_PASSWORD, DEMO_USERNAME, PERSONAS, REGIONS, TOPICS

__all__ = [
    "ADMIN_PASSWORD", "ADMIN_USERNAME", "DEFAULT_LEARNERS", "DEFAULT_SEED", "DEFAULT_WEEKS", "DEMO_PASSWORD",
    "DEMO_USERNAME", "MAX_LEARNERS", "MAX_WEEKS", "PERSONAS", "REGIONS", "TOPICS", "DemoSummary", "Progress",
    "build_demo", "community_is_empty",
]
