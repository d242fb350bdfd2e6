"""Reading weekly goals (§6.2): stored goals of a learner's week and their views for the panel and the API.

Owns the read side only — nothing here creates or advances a goal (lazy
creation is :func:`.creation.ensure_goals`; the panel's entry point
:func:`.creation.weekly_goal_views` creates, then reads through here).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from thrive.extensions import db
from thrive.models import GoalTemplate, WeeklyGoal
from thrive.timeutil import as_utc


def goals_for(learner_id: int, week: str) -> list[WeeklyGoal]:
    """The learner's goals of ``week`` as stored (no creation), in template order."""
    q = (
        select(WeeklyGoal)
        .join(GoalTemplate, GoalTemplate.id == WeeklyGoal.template_id)
        .where(WeeklyGoal.learner_id == learner_id, WeeklyGoal.week == week)
        .order_by(GoalTemplate.position, GoalTemplate.id)
    )
    return list(db.session.scalars(q))


def goals_in_week(learner_id: int, week: str) -> list[WeeklyGoal]:
    """The learner's goals for platform ISO week ``week`` in creation order (none until the weekly job, §6.2)."""
    return list(db.session.scalars(
        select(WeeklyGoal).where(WeeklyGoal.learner_id == learner_id, WeeklyGoal.week == week)
        .order_by(WeeklyGoal.id)
    ))



@dataclass(frozen=True)
class GoalView:
    """One goal as the goals panel and the API show it (the learner's own data only).

    ``progress``/``target`` are counts (activities, streak days or topics);
    ``reward`` is in points; ``percent`` is 0–100; ``completed_at`` a UTC instant;
    ``activity_types`` the activity types that count (empty for streak and topic goals).
    """

    id: int
    title: str
    description: str | None
    kind: str
    progress: int
    target: int
    reward: int
    percent: int
    completed: bool
    completed_at: datetime | None
    topics: tuple[str, ...]
    activity_types: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "title": self.title, "kind": self.kind, "progress": self.progress,
            "target": self.target, "reward": self.reward, "completed": self.completed,
            "completed_at": self.completed_at.isoformat() if self.completed_at else None,
        }


def goal_views(goals: Iterable[WeeklyGoal], descriptions: dict[int, str | None] | None = None) -> list[GoalView]:
    """Views of stored goals (with each template's description; read when ``descriptions`` is not given)."""
    goals = list(goals)
    if descriptions is None:
        descriptions = dict(db.session.execute(
            select(GoalTemplate.id, GoalTemplate.description).where(
                GoalTemplate.id.in_(sorted({g.template_id for g in goals})))
        ).all())
    out = []
    for g in goals:
        target = max(g.target, 1)
        progress = min(g.progress, g.target)
        out.append(GoalView(
            id=g.id, title=g.title, description=descriptions.get(g.template_id), kind=g.kind, progress=progress,
            target=g.target, reward=g.reward, percent=int(progress * 100 / target),
            completed=g.completed_at is not None,
            completed_at=as_utc(g.completed_at) if g.completed_at else None,
            topics=tuple((g.data or {}).get("topics", [])),
            activity_types=tuple(g.activity_types or ()),
        ))
    return out

