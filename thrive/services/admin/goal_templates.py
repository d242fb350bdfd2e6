"""Weekly goal templates for staff (§6.2, §11): list, add, edit, disable.

A learner's weekly goals are copies of the enabled templates made when the
goals are created (``services.weekly.goals``), so an edit applies from the
next goals created; this week's goals keep the terms they were made with.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from thrive.db import write_transaction
from thrive.extensions import db
from thrive.models import GoalTemplate, Learner
from thrive.services.admin.audit import record
from thrive.services.errors import FieldErrors, NotFound
from thrive.services.points.registry import load_registry
from thrive.services.weekly.goals import COMPLETION_ACTIVITY, GOAL_KINDS
from thrive.timeutil import as_utc, utcnow

TEMPLATE_FIELDS = ("key", "title", "description", "kind", "activity_types", "target", "reward", "enabled",
                   "position")
KEY_RE = re.compile(r"^[a-z][a-z0-9_]{1,63}$")
MAX_TARGET = 1000


class TemplateErrors(FieldErrors):
    """A proposed goal template is invalid. ``errors`` maps field → code.

    Codes: ``required``, ``invalid_key``, ``taken``, ``too_long``, ``unknown_kind``,
    ``unknown_activity_type``, ``not_integer``, ``out_of_range``.
    """

    code = "invalid_goal_template"
    subject = "the goal template"


def template_snapshot(tpl: GoalTemplate) -> dict[str, Any]:
    """Every field of a template as plain values (audit before/after, configuration export)."""
    out = {name: getattr(tpl, name) for name in TEMPLATE_FIELDS}
    out["activity_types"] = list(tpl.activity_types) if tpl.activity_types else None
    return out


def reward_bounds() -> tuple[int, int]:
    """(min, max) points a goal may reward: the ``weekly_goal_completed`` rule's custom-amount bounds."""
    rule = load_registry().rules.get(COMPLETION_ACTIVITY)
    low = rule.min_points if rule and rule.min_points is not None else 1
    high = rule.max_points if rule and rule.max_points is not None else 1000
    return max(low, 1), high


def validate_template(data: dict[str, Any], *, template_id: int | None = None) -> dict[str, Any]:
    """Check a proposed template; return the clean field dict (all of :data:`TEMPLATE_FIELDS`).

    ``kind`` ∈ ``activity_count``/``streak_days``/``new_quiz_topics``; ``activity_types``
    (list of rule keys) is required for ``activity_count`` and ``new_quiz_topics``;
    ``target`` 1–1000; ``reward`` within the ``weekly_goal_completed`` rule's bounds
    (points). ``key`` is unique among templates. Raises :class:`TemplateErrors`.
    """
    errors: dict[str, str] = {}
    key = (data.get("key") or "").strip()
    if not key:
        errors["key"] = "required"
    elif not KEY_RE.match(key):
        errors["key"] = "invalid_key"
    else:
        other = db.session.scalar(select(GoalTemplate.id).where(GoalTemplate.key == key))
        if other is not None and other != template_id:
            errors["key"] = "taken"
    title = (data.get("title") or "").strip()
    if not title:
        errors["title"] = "required"
    elif len(title) > 200:
        errors["title"] = "too_long"
    description = (data.get("description") or "").strip() or None
    if description and len(description) > 2000:
        errors["description"] = "too_long"
    kind = data.get("kind")
    if kind not in GOAL_KINDS:
        errors["kind"] = "unknown_kind"
    types = [t for t in (data.get("activity_types") or []) if t]
    rules = load_registry().rules
    if any(t not in rules for t in types):
        errors["activity_types"] = "unknown_activity_type"
    elif kind in ("activity_count", "new_quiz_topics") and not types:
        errors["activity_types"] = "required"
    low, high = reward_bounds()
    numbers = {}
    for name, lo, hi in (("target", 1, MAX_TARGET), ("reward", low, high), ("position", 0, 10_000)):
        value = data.get(name)
        if value is None or value == "":
            if name == "position":
                numbers[name] = 0
                continue
            errors[name] = "required"
        elif isinstance(value, bool) or not isinstance(value, int):
            errors[name] = "not_integer"
        elif not lo <= value <= hi:
            errors[name] = "out_of_range"
        numbers[name] = value
    if errors:
        raise TemplateErrors(errors)
    return {"key": key, "title": title, "description": description, "kind": kind,
            "activity_types": list(dict.fromkeys(types)) if types else None, "target": numbers["target"],
            "reward": numbers["reward"], "enabled": bool(data.get("enabled")), "position": numbers["position"]}


@dataclass(frozen=True)
class TemplateSaved:
    """Outcome of :func:`save_template`."""

    template_id: int
    created: bool
    changed: bool


def save_template(actor: Learner, data: dict[str, Any], *, template_id: int | None = None,
                  now: datetime | None = None) -> TemplateSaved:
    """Create (``template_id`` None) or update a goal template; one audit entry (§6.2, §11).

    Applies from the next goals created. Saving an unchanged template writes
    nothing. Raises :class:`TemplateErrors`, ``NotFound``.
    """
    now = as_utc(now) if now else utcnow()
    clean = validate_template(data, template_id=template_id)
    with write_transaction() as session:
        if template_id is None:
            tpl = GoalTemplate(updated_at=now, **clean)
            session.add(tpl)
            session.flush()
            record(actor, "goal_template.create", "goal_template", tpl.id, None, clean, session=session)
            return TemplateSaved(tpl.id, True, True)
        tpl = session.get(GoalTemplate, template_id)
        if tpl is None:
            raise NotFound(f"no goal template {template_id}")
        before = template_snapshot(tpl)
        if before == clean:
            return TemplateSaved(tpl.id, False, False)
        for name, value in clean.items():
            setattr(tpl, name, value)
        tpl.updated_at = now
        record(actor, "goal_template.update", "goal_template", tpl.id, before, clean, session=session)
        return TemplateSaved(tpl.id, False, True)


def set_enabled(actor: Learner, template_id: int, enabled: bool, *, now: datetime | None = None) -> TemplateSaved:
    """Enable or disable a template (disabled ones are not copied into new goals). Raises ``NotFound``."""
    tpl = get_template(template_id)
    data = {**template_snapshot(tpl), "enabled": bool(enabled)}
    db.session.commit()
    return save_template(actor, data, template_id=template_id, now=now)


def get_template(template_id: int) -> GoalTemplate:
    """The template with ``template_id``; raises ``NotFound``."""
    tpl = db.session.get(GoalTemplate, template_id)
    if tpl is None:
        raise NotFound(f"no goal template {template_id}")
    return tpl


def list_templates() -> list[GoalTemplate]:
    """All templates, by position then key."""
    return list(db.session.scalars(select(GoalTemplate).order_by(GoalTemplate.position, GoalTemplate.key)))


def next_position() -> int:
    """A position after every existing template (for a new one)."""
    return int(db.session.scalar(select(func.coalesce(func.max(GoalTemplate.position), 0))) or 0) + 1
