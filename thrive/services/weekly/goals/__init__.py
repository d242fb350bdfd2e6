"""Weekly goals (§6.2): creation, progress inside the award transaction, completion once.

A learner's goals for a platform ISO week (``"YYYY-Www"``) are copies of the
enabled goal templates (one :class:`WeeklyGoal` row per template). They are
created

- by the Monday job for every *active* learner (an award in the last
  ``THRIVE_CIRCLE_ELIGIBILITY_DAYS`` days before the week starts) with one
  set-based ``INSERT … SELECT`` of enabled templates × eligible learners
  (:func:`create_weekly_goals`), and
- lazily on first view for anybody else (:func:`ensure_goals`) — the same
  statement restricted to one learner, so both paths produce the same rows.

Progress (:func:`.progress._on_award`, an award hook) happens inside the award
transaction, only from ledger entries whose ``week`` is the goal's week:

- ``activity_count``: +1 per non-capped award whose activity type is in the
  goal's list;
- ``streak_days``: the learner's current streak after each streak-counting
  award (capped at the target);
- ``new_quiz_topics``: distinct ``metadata.topic`` values of non-capped quiz
  awards this week that the learner never completed in an earlier week.

Reaching the target awards ``weekly_goal_completed`` with the goal's reward
exactly once (event key ``goal:<goal id>``, dated at the award that completed
it), sets ``completed_at`` and sends a ``weekly_goal_completed``
notification. Goals created after some of the week's awards are brought up to
date from the ledger (:func:`refresh_goals`) by folding those awards through
the very same progress function, so the result never depends on when the
goals were created.

Modules, in dependency order: ``progress`` (the progress rule and the award
hook), ``refresh`` (ledger catch-up through the same rule), ``reads`` (stored
goals and their views), ``creation`` (the Monday job and lazy creation).
Importing this package registers the award hook.
"""
from .creation import create_weekly_goals, eligibility_days, ensure_goals, weekly_goal_views
from .progress import COMPLETION_ACTIVITY, GOAL_KINDS, goal_event_key
from .reads import GoalView, goal_views, goals_for, goals_in_week
from .refresh import refresh_goals, refresh_learners

__all__ = [
    "COMPLETION_ACTIVITY", "GOAL_KINDS", "GoalView", "create_weekly_goals", "eligibility_days",
    "ensure_goals", "goal_event_key", "goal_views", "goals_for", "goals_in_week", "refresh_goals",
    "refresh_learners", "weekly_goal_views",
]
