"""Configuration as data (§11, §12): export the economy as one JSON document; import it with a dry run.

The document::

    {"thrive_config": 1, "exported_at": "<UTC ISO 8601>",
     "rules": [...], "tiers": [...], "levels": [...], "goal_templates": [...]}

is built from a registry of :class:`Section` s. Each section owns one or more
top-level keys and knows how to export them, compare them with the database
(a list of :class:`Change`) and apply them inside the import's transaction.
Other domains add their own (``register_section(Section(...))`` — e.g. quests
and achievements) without touching this module. A key missing from an
imported document leaves that section alone; unknown keys are refused.

Import semantics: rules and goal templates are upserted by key (never
deleted: the ledger and past goals refer to them); the tier ladder and level
table are replaced whole (validated; nobody is demoted, §1.2; promotions are
silent unless asked). A dry run computes the changes and writes nothing; a
real import applies them all in one transaction with one audit entry
(``config.import``).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from thrive.db import write_transaction
from thrive.extensions import db
from thrive.models import GoalTemplate, PointRule
from thrive.services.admin import goal_templates as goal_service
from thrive.services.admin import ladder as ladder_service
from thrive.services.admin import rules as rule_service
from thrive.services.admin.audit import record
from thrive.services.errors import FieldErrors
from thrive.services.points import registry
from thrive.timeutil import as_utc, utcnow

FORMAT_KEY = "thrive_config"
FORMAT_VERSION = 1
MAX_DOCUMENT_BYTES = 2 * 1024 * 1024


class ConfigErrors(FieldErrors):
    """An imported document is invalid. ``errors`` maps a path (``rules.3.base_points``) → code."""

    code = "invalid_config"
    subject = "the configuration"


@dataclass(frozen=True)
class Change:
    """One difference between a document and the database.

    ``section``: the document key; ``key``: the object (rule activity type,
    template key, tier key, level number); ``action``: ``add`` / ``change`` /
    ``remove``; ``fields``: ``{field: [old, new]}`` for changes.
    """

    section: str
    key: str
    action: str
    fields: dict[str, list] = field(default_factory=dict)


@dataclass
class ImportContext:
    """Passed to ``Section.apply``: the open session, the actor's id, the instant, options."""

    session: Any
    actor_id: int | None
    now: datetime
    celebrate: bool = False
    summary: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Section:
    """One part of the document.

    ``keys``: top-level keys it owns; ``export()`` → ``{key: value}``;
    ``plan(part)`` → (clean part, [Change]) — validates (raise ``ConfigErrors``)
    and compares with the database, writing nothing; ``apply(ctx, clean)``
    writes the clean part in ``ctx.session`` (no commit).
    """

    name: str
    keys: tuple[str, ...]
    export: Callable[[], dict[str, Any]]
    plan: Callable[[dict[str, Any]], tuple[Any, list[Change]]]
    apply: Callable[[ImportContext, Any], None]


_sections: dict[str, Section] = {}


def register_section(section: Section) -> Section:
    """Add (or replace, by name) a section of the configuration document."""
    _sections[section.name] = section
    return section


def sections() -> list[Section]:
    """The registered sections, in registration order."""
    return list(_sections.values())


def _diff_fields(old: dict, new: dict) -> dict[str, list]:
    return {k: [old.get(k), new.get(k)] for k in new if old.get(k) != new.get(k)}


def _prefixed(errors: dict[str, str], prefix: str) -> dict[str, str]:
    return {f"{prefix}.{k}": v for k, v in errors.items()}


def _plan_keyed(
    part: dict[str, Any], section: str, key_field: str, current: dict[str, Any],
    doc: Callable[[Any], dict], validate: Callable[[dict, Any], dict],
) -> tuple[list[tuple[str, dict]], list[Change]]:
    """Check a section that is a list of objects keyed by ``key_field`` (rules, goal templates).

    ``current`` maps key → stored row, ``doc(row)`` gives its comparable
    fields and ``validate(item, row or None)`` the clean fields (raising
    :class:`FieldErrors`). Returns ``([(key, clean)] of every valid item,
    changes)``, a change being an ``add`` or a ``change`` with its field diff;
    raises :class:`ConfigErrors` with every problem (paths ``<section>.<i>.<field>``).
    """
    items = part[section]
    if not isinstance(items, list):
        raise ConfigErrors({section: "not_a_list"})
    errors: dict[str, str] = {}
    valid, changes, seen = [], [], set()
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            errors[f"{section}.{i}"] = "not_an_object"
            continue
        key = item.get(key_field)
        if key in seen:
            errors[f"{section}.{i}.{key_field}"] = "duplicate_key"
            continue
        seen.add(key)
        existing = current.get(key)
        try:
            clean = validate(item, existing)
        except FieldErrors as exc:
            errors.update(_prefixed(exc.errors, f"{section}.{i}"))
            continue
        valid.append((key, clean))
        if existing is None:
            changes.append(Change(section, key, "add"))
        else:
            diff = _diff_fields(doc(existing), clean)
            if diff:
                changes.append(Change(section, key, "change", diff))
    if errors:
        raise ConfigErrors(errors)
    return valid, changes


# --- rules -----------------------------------------------------------------------

def _export_rules() -> dict[str, Any]:
    rows = db.session.scalars(select(PointRule).order_by(PointRule.activity_type))
    return {"rules": [rule_service.rule_snapshot(r) for r in rows]}


def _plan_rules(part: dict[str, Any]) -> tuple[list[dict], list[Change]]:
    current = {r.activity_type: r for r in db.session.scalars(select(PointRule))}
    valid, changes = _plan_keyed(
        part, "rules", "activity_type", current, rule_service.rule_snapshot,
        lambda item, existing: rule_service.validate_rule(item, is_new=existing is None))
    return [clean for _key, clean in valid], changes


def _apply_rules(ctx: ImportContext, clean_items: list[dict]) -> None:
    for clean in clean_items:
        rule_service.apply_rule(ctx.session, clean, author_id=ctx.actor_id, now=ctx.now)


# --- tiers and levels --------------------------------------------------------------

def _export_ladder() -> dict[str, Any]:
    return ladder_service.current_ladder()


def _plan_ladder(part: dict[str, Any]) -> tuple[dict | None, list[Change]]:
    current = ladder_service.current_ladder()
    tiers = part.get("tiers", current["tiers"])
    levels = part.get("levels", current["levels"])
    if not isinstance(tiers, list) or not all(isinstance(t, dict) for t in tiers):
        raise ConfigErrors({"tiers": "not_a_list"})
    if not isinstance(levels, list):
        raise ConfigErrors({"levels": "not_a_list"})
    try:
        clean = ladder_service.validate_ladder(tiers, levels)
    except ladder_service.LadderErrors as exc:
        raise ConfigErrors(exc.errors) from None
    changes: list[Change] = []
    old_tiers = {t["key"]: t for t in current["tiers"]}
    new_tiers = {t["key"]: t for t in clean["tiers"]}
    for key, t in new_tiers.items():
        if key not in old_tiers:
            changes.append(Change("tiers", key, "add"))
        else:
            diff = _diff_fields(old_tiers[key], t)
            if diff:
                changes.append(Change("tiers", key, "change", diff))
    changes += [Change("tiers", key, "remove") for key in old_tiers if key not in new_tiers]
    old_levels, new_levels = current["levels"], clean["levels"]
    for i in range(max(len(old_levels), len(new_levels))):
        old = old_levels[i] if i < len(old_levels) else None
        new = new_levels[i] if i < len(new_levels) else None
        if old != new:
            action = "add" if old is None else "remove" if new is None else "change"
            changes.append(Change("levels", str(i + 1), action, {"threshold": [old, new]}))
    return (clean if changes else None), changes


def _apply_ladder(ctx: ImportContext, clean: dict | None) -> None:
    if clean is not None:
        saved = ladder_service.apply_ladder(ctx.session, clean["tiers"], clean["levels"], celebrate=ctx.celebrate,
                                            now=ctx.now)
        ctx.summary["promoted"] = saved.promoted


# --- goal templates -----------------------------------------------------------------

def _template_doc(tpl: GoalTemplate) -> dict[str, Any]:
    return goal_service.template_snapshot(tpl)


def _export_templates() -> dict[str, Any]:
    rows = db.session.scalars(select(GoalTemplate).order_by(GoalTemplate.position, GoalTemplate.key))
    return {"goal_templates": [_template_doc(t) for t in rows]}


def _plan_templates(part: dict[str, Any]) -> tuple[list[tuple[int | None, dict]], list[Change]]:
    current = {t.key: t for t in db.session.scalars(select(GoalTemplate))}
    valid, changes = _plan_keyed(
        part, "goal_templates", "key", current, _template_doc,
        lambda item, existing: goal_service.validate_template(item, template_id=existing.id if existing else None))
    changed = {c.key for c in changes}
    return [(current[key].id if key in current else None, clean) for key, clean in valid if key in changed], changes


def _apply_templates(ctx: ImportContext, items: list[tuple[int | None, dict]]) -> None:
    for template_id, clean in items:
        if template_id is None:
            ctx.session.add(GoalTemplate(updated_at=ctx.now, **clean))
        else:
            tpl = ctx.session.get(GoalTemplate, template_id)
            for name, value in clean.items():
                setattr(tpl, name, value)
            tpl.updated_at = ctx.now


register_section(Section("rules", ("rules",), _export_rules, _plan_rules, _apply_rules))
register_section(Section("ladder", ("tiers", "levels"), _export_ladder, _plan_ladder, _apply_ladder))
register_section(Section("goal_templates", ("goal_templates",), _export_templates, _plan_templates,
                         _apply_templates))


# --- export / import ------------------------------------------------------------------

def export_config(now: datetime | None = None) -> dict[str, Any]:
    """The whole configuration document (JSON-serialisable dict) from every registered section."""
    now = as_utc(now) if now else utcnow()
    doc: dict[str, Any] = {FORMAT_KEY: FORMAT_VERSION, "exported_at": now.isoformat()}
    for section in sections():
        doc.update(section.export())
    db.session.commit()
    return doc


@dataclass
class ImportResult:
    """Outcome of :func:`import_config`: the changes (applied unless ``dry_run``) and a summary."""

    dry_run: bool
    changes: list[Change]
    summary: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "changes": [asdict(c) for c in self.changes], "summary": self.summary}


def _check_document(doc: Any) -> None:
    if not isinstance(doc, dict):
        raise ConfigErrors({"": "not_an_object"})
    if doc.get(FORMAT_KEY) != FORMAT_VERSION:
        raise ConfigErrors({FORMAT_KEY: "unsupported_version"})
    known = {FORMAT_KEY, "exported_at"} | {k for s in sections() for k in s.keys}
    unknown = sorted(set(doc) - known)
    if unknown:
        raise ConfigErrors({k: "unknown_section" for k in unknown})


def import_config(doc: Any, *, actor, dry_run: bool, celebrate: bool = False,
                  now: datetime | None = None) -> ImportResult:
    """Compare ``doc`` with the database and, unless ``dry_run``, apply it (§11, §12).

    ``actor``: the staff member (``id``, ``username``) for the audit entry.
    Every section present is validated before anything is written
    (:class:`ConfigErrors` with paths); a dry run writes nothing. A real
    import applies every change in one transaction with one audit entry
    (``config.import``) and invalidates the registry cache; with no change it
    writes nothing.
    """
    _check_document(doc)
    now = as_utc(now) if now else utcnow()
    plans: list[tuple[Section, Any]] = []
    changes: list[Change] = []
    errors: dict[str, str] = {}
    for section in sections():
        part = {k: doc[k] for k in section.keys if k in doc}
        if not part:
            continue
        try:
            clean, section_changes = section.plan(part)
        except ConfigErrors as exc:
            errors.update(exc.errors)
            continue
        if section_changes:
            plans.append((section, clean))
            changes += section_changes
    db.session.commit()
    if errors:
        raise ConfigErrors(errors)
    result = ImportResult(dry_run, changes, {"changes": len(changes)})
    if dry_run or not changes:
        return result
    with write_transaction() as session:
        ctx = ImportContext(session, getattr(actor, "id", None), now, celebrate)
        for section, clean in plans:
            section.apply(ctx, clean)
        result.summary.update(ctx.summary)
        record(actor, "config.import", "config", None, None,
               {"changes": [asdict(c) for c in changes], "summary": result.summary}, session=session)
    registry.invalidate()
    return result
