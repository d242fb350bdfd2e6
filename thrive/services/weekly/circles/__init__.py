"""Thrive Circles (§6.1): weekly assignment, mid-week joiners, circle goal and the circle panel.

Assignment (:func:`assign_circles`, run by the scheduler every Monday 00:00
platform time, by ``flask thrive assign-circles`` and as a catch-up):

- **eligible**: active accounts whose last award (``LearnerState.last_award_at``,
  a UTC instant) lies in ``[week start − THRIVE_CIRCLE_ELIGIBILITY_DAYS,
  week end)``. The upper bound is the week's end, not its start, so a late
  (catch-up) run also places learners who became active since Monday.
- **grouped by tier** (ladder order of :func:`~.registry.load_registry`),
  **sorted by total points** within the group (ties by learner id), **split**
  into circles of ``THRIVE_CIRCLE_TARGET_SIZE`` (T); the leftover after the
  last full circle becomes its own circle when it has at least
  ``THRIVE_CIRCLE_MIN_SIZE`` (M) learners, otherwise it merges into the
  neighbouring (previous) circle — so every circle has between M and T+M−1
  learners (< 2T), except when the whole population is smaller than M
  (:func:`circle_sizes`).
- **small tiers merge** with the adjacent tier (:func:`plan_groups`): walking
  the ladder from the top down, a tier with fewer than M eligible learners
  (together with whatever was merged into it) merges *down* into the next
  lower tier that has learners; the lowest tier, if still too small, merges
  *up* into the group above it. A merged group is named and tiered after the
  tier it merged into ("Beacon Circle A" may hold a few Phoenix learners, who
  sort last because their totals are highest).
- **names** "<Tier> Circle A", "B", … "Z", "AA", "AB" … (:func:`seq_label`).
- **weekly points**: a membership's ``points`` are the learner's points in
  that week — 0 when placed on Monday (their ``LearnerState.weekly_points``
  belong to last week), their points so far when placed later — and grow with
  every award of that week (award hook). Once the week is over the row is
  final history: awards back-dated into a closed week do not change it.
- **idempotent**: a week is assigned once in bulk and then marked in
  ``circle_weeks``; a re-run only places eligible learners that have no
  circle yet (normally nobody), one by one, like mid-week joiners.

The bulk assignment is set-based: one small ``GROUP BY`` for the counts per
tier, one multi-row insert of the circles, one ``INSERT … SELECT`` with
``row_number() OVER (PARTITION BY group ORDER BY total)`` for the
memberships and one ``INSERT … SELECT`` for the ``circle_assigned``
notifications — no Python loop per learner (see ``benchmarks/bench_circles.py``).

Mid-week joiners, membership points and the circle goal are maintained by an
award hook (runs inside the award transaction). Reaching the goal only
*marks* the circle (``UPDATE … WHERE goal_completed_at IS NULL``); the
members are awarded afterwards, outside that transaction, by
:func:`settle_circle_goals`, called explicitly by the award path once the award has
committed (:func:`goal.settle_due_goals`) and hourly by the scheduler as a catch-up — see docs/circles.md.

Concurrency on PostgreSQL: the bulk/top-up assignment holds an exclusive
transaction-level advisory lock for the week; a hook that finds no membership
takes it shared (so it waits for a running assignment and then sees its
result) and takes a per-week "join" lock before choosing a circle, so two
joiners never overfill or create the same circle; the goal check locks the
circle row (``FOR UPDATE``), so the last of several concurrent contributors
always sees the others' committed points. On SQLite every write transaction is
``BEGIN IMMEDIATE`` and thus serialised.

Modules: ``settings`` (configuration), ``planning`` (pure sizing and naming), ``assignment`` (bulk,
top-up, mid-week joiners), ``goal`` (the award hook and the explicit goal settlement), ``panel`` (read model).
"""
from .assignment import assign_circles
from .goal import settle_circle_goals, settle_due_goals, take_due_goals
from .panel import (
    ANONYMOUS,
    CircleActivity,
    CircleMember,
    CirclePanel,
    CircleSummary,
    circle_panel,
    list_circles,
    week_reset,
)
from .planning import GroupPlan, circle_count, circle_name, circle_sizes, plan_groups, seq_label
from .settings import (
    BULK_WORK_MEM,
    DEFAULT_GOAL_BONUS,
    GOAL_ACTIVITY,
    CircleSettings,
    assigned_dedupe_key,
    circle_settings,
)

__all__ = [
    "ANONYMOUS", "BULK_WORK_MEM", "DEFAULT_GOAL_BONUS", "GOAL_ACTIVITY", "CircleActivity", "CircleMember",
    "CirclePanel", "CircleSettings", "CircleSummary", "GroupPlan", "assign_circles", "assigned_dedupe_key",
    "circle_count", "circle_name", "circle_panel", "circle_settings", "circle_sizes",
    "list_circles", "plan_groups", "seq_label", "settle_circle_goals", "settle_due_goals", "take_due_goals",
    "week_reset",
]
