"""Discover (§8.2): learners who share their profile, filterable by tier and topic, in random order.

Never ordered by points (§1.3). To stay cheap with 100k learners it never
sorts the table: it reads a few short windows of the primary-key index
starting at random ids (``id >= pivot ORDER BY id LIMIT k``), tops up from
the start of the index when that gives too few (small or heavily filtered
populations), then shuffles the sample. Every request draws new pivots, so
consecutive requests show different people in a different order.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache

from cachetools import TTLCache
from flask import current_app
from sqlalchemy import Float, Integer, bindparam, cast, exists, func, literal, literal_column, select, union_all
from sqlalchemy.sql.elements import BindParameter

from thrive.db import read_rows
from thrive.extensions import db
from thrive.models import Follow, Learner, LearnerState, LearnerTopic
from thrive.services.accounts.learners import TOPIC_RE
from thrive.services.community.feed_queries import in_ids_param
from thrive.services.community.visibility import profile_public_sql
from thrive.services.errors import ValidationError
from thrive.services.points.registry import TierSnapshot, load_registry

PAGE_SIZE = 12
WINDOWS = 3


@dataclass(frozen=True)
class DiscoverCard:
    """One learner in discover: public fields only (no points), ``following`` for the button."""

    id: int
    username: str
    display_name: str
    tier: TierSnapshot
    level: int
    topics: tuple[str, ...]
    following: bool


@dataclass(frozen=True)
class DiscoverResult:
    """The sample shown, with the filters applied (``tier`` key / ``topic`` or None).

    ``viewer_topics`` are the viewer's own topics, sorted (read in the same statement as the cards' topics;
    the topic filter suggests them).
    """

    people: list[DiscoverCard]
    tier: str | None
    topic: str | None
    viewer_topics: tuple[str, ...] = ()


def clean_filters(tier: str | None, topic: str | None) -> tuple[str | None, str | None]:
    """Validate the filters: ``tier`` must be a tier key, ``topic`` a valid topic; blanks mean "any".

    Raises ``ValidationError`` (``invalid_tier`` / ``invalid_topic``).
    """
    tier = (tier or "").strip().lower() or None
    topic = " ".join((topic or "").split()) or None
    if tier is not None and tier not in {t.key for t in load_registry().tiers}:
        raise ValidationError(f"unknown tier {tier[:32]!r}", code="invalid_tier")
    if topic is not None and not TOPIC_RE.match(topic):
        raise ValidationError("topic has unsupported characters or is too long", code="invalid_topic")
    return tier, topic


def _base_query(viewer_id: int, tier: str | None, topic: str | None, *, at_least: int | None = None,
                below: int | None = None, ids_only: bool = False):
    """Discoverable learners, optionally with ids in ``[at_least, below)``.

    The id bound is repeated on every joined table so that PostgreSQL starts
    each primary-key scan at the pivot instead of merging from the first row.
    ``ids_only``: the learners' ids alone, joined to ``learner_states`` only to filter by tier (a cheaper
    statement to plan; the caller joins the shown columns).
    """
    if ids_only:
        q = select(Learner.id)
        if tier is not None:
            q = q.join(LearnerState, LearnerState.learner_id == Learner.id)
    else:
        q = (select(Learner.id, Learner.username, Learner.display_name, LearnerState.tier_key, LearnerState.level)
             .join(LearnerState, LearnerState.learner_id == Learner.id))
    q = q.where(profile_public_sql(Learner), Learner.id != viewer_id)
    bounds = []
    if at_least is not None:
        bounds.append(lambda column: column >= at_least)
    if below is not None:
        bounds.append(lambda column: column < below)
    for bound in bounds:
        q = q.where(bound(Learner.id))
        if not ids_only or tier is not None:
            q = q.where(bound(LearnerState.learner_id))
    if tier is not None:
        q = q.where(LearnerState.tier_key == tier)
    if topic is not None:
        q = q.where(exists().where(LearnerTopic.learner_id == Learner.id,
                                   func.lower(LearnerTopic.topic) == (topic if isinstance(topic, BindParameter)
                                                                      else topic.lower()),
                                   *(bound(LearnerTopic.learner_id) for bound in bounds)))
    return q.order_by(Learner.id)


def _tagged(q, viewer_id: int, window: int, part: int):
    """``q``'s rows prefixed by ``window`` and ``part`` numbers and suffixed by "the viewer follows them"."""
    follows = exists().where(Follow.follower_id == viewer_id, Follow.followed_id == Learner.id)
    return q.with_only_columns(literal(window).label("window"), literal(part).label("part"), *q.selected_columns,
                               follows.label("following"))


def _int_param(name: str):
    """An integer bound parameter sent as a float and cast back in SQL (the caller binds ``float(value)``).

    psycopg sends a Python int as int2, int4 or int8 by its size and prepares a statement per combination of
    parameter types: discover's random pivots made up to 16 variants of its statement per connection, each
    prepared and planned afresh. A float is always float8, so the statement is prepared once per connection.
    """
    return cast(bindparam(name, type_=Float), Integer)


@lru_cache(maxsize=32)
def _windows_statement(windows: int, per_window: int, with_tier: bool, with_topic: bool):
    """Every window of :func:`discover` in one statement, built once per shape (issue 12).

    Building the six sub-selects cost more CPU than running them; the statement is the same for every
    request of a shape, with bound parameters ``viewer_id``, ``pivot0``… (one per window, these as floats:
    :func:`_int_param`), ``tier`` and ``topic`` (lower case). Rows: ``(window, part, id, username,
    display_name, tier_key, level, following)``.

    The windows pick ids alone (a ``UNION ALL`` of short primary-key range scans of ``learners``), and the
    shown columns are joined once to the picked ids: planning six joins cost PostgreSQL ~1 ms, four times
    running them, and a connection plans the statement again until psycopg prepares it (its 5th run; read-only
    requests keep prepared statements, ``thrive/web/transactions.py``). The window size is written into the
    SQL, not bound (a generic plan needs it).
    """
    viewer = _int_param("viewer_id")
    tier = bindparam("tier") if with_tier else None
    topic = bindparam("topic") if with_topic else None
    parts = [_base_query(viewer, tier, topic, ids_only=True, **{bound: _int_param(f"pivot{n}")})
             .with_only_columns(literal_column(str(n)).label("window"), literal_column(str(part)).label("part"),
                                Learner.id.label("id"))
             .limit(literal_column(str(int(per_window)))).subquery()
             for n in range(windows) for part, bound in enumerate(("at_least", "below"))]
    picked = union_all(*(select(*sub.c) for sub in parts)).subquery("picked")
    follows = exists().where(Follow.follower_id == viewer, Follow.followed_id == Learner.id)
    return (select(picked.c.window, picked.c.part, Learner.id, Learner.username, Learner.display_name,
                   LearnerState.tier_key, LearnerState.level, follows.label("following"))
            .select_from(picked)
            .join(Learner, Learner.id == picked.c.id)
            .join(LearnerState, LearnerState.learner_id == picked.c.id))


def discover(viewer_id: int, *, tier: str | None = None, topic: str | None = None, size: int = PAGE_SIZE,
             rng: random.Random | None = None) -> DiscoverResult:
    """A random sample of up to ``size`` learners the viewer can discover (§8.2).

    Args:
        viewer_id: the signed-in learner (excluded; follow state computed for them).
        tier: a tier key filter, or None/"" for any tier.
        topic: a topic filter (case-insensitive), or None/"" for any.
        size: how many to show (1–50).
        rng: a random generator (tests); a fresh one per call by default.

    Raises ``ValidationError`` for an unknown tier or a malformed topic.
    """
    tier, topic = clean_filters(tier, topic)
    if not 1 <= size <= 50:
        raise ValidationError("size must be between 1 and 50")
    rng = rng or random.Random()
    low, high = _id_range()
    rows: dict[int, tuple] = {}
    if low is not None:
        per_window = max(1, -(-size // WINDOWS))
        pivots = [rng.randint(low, high) for _ in range(WINDOWS)]
        # Every window in one statement: ``id >= pivot`` and, for running off the end of the id range,
        # the wrap-around ``id < pivot`` — each a short primary-key range scan, tagged (window, part).
        params = {"viewer_id": float(viewer_id), **{f"pivot{n}": float(pivot) for n, pivot in enumerate(pivots)}}
        if tier is not None:
            params["tier"] = tier
        if topic is not None:
            params["topic"] = topic.lower()
        statement = _windows_statement(len(pivots), per_window, tier is not None, topic is not None)
        found = sorted(tuple(r) for r in read_rows(statement, params))
        for n in range(len(pivots)):
            window = [r[2:] for r in found if r[0] == n][:per_window]  # from the pivot on, then wrapped
            for row in window:
                rows.setdefault(row[0], row)
        if len(rows) < size:
            # Overlapping windows in a small or heavily filtered population: take what there is.
            for row in db.session.execute(_tagged(_base_query(viewer_id, tier, topic), viewer_id, 0, 0)
                                          .limit(size * 2)):
                rows.setdefault(row[2], tuple(row[2:]))
    chosen = list(rows.values())
    rng.shuffle(chosen)
    chosen = chosen[:size]
    ids = [r[0] for r in chosen]
    # the cards' topics and the viewer's own, in one statement
    topics: dict[int, list[str]] = {i: [] for i in [*ids, viewer_id]}
    for lid, name in read_rows(_topics_statement(db.session.get_bind().dialect.name), {"ids": [*ids, viewer_id]}):
        topics[lid].append(name)
    registry = load_registry()
    people = [
        DiscoverCard(lid, username, display_name, registry.tier(tier_key), level, tuple(topics[lid]), bool(following))
        for lid, username, display_name, tier_key, level, following in chosen
    ]
    return DiscoverResult(people, tier, topic, tuple(topics[viewer_id]))


@lru_cache(maxsize=4)
def _topics_statement(dialect: str):
    """The topics of the learners ``ids`` (a list bound as one parameter), sorted; built once per dialect."""
    return (select(LearnerTopic.learner_id, LearnerTopic.topic)
            .where(in_ids_param(LearnerTopic.learner_id, "ids", dialect)).order_by(LearnerTopic.topic))


#: Seconds the learners' id range is kept per process (it only places discover's random windows).
ID_RANGE_SECONDS = 60


def _id_range() -> tuple[int | None, int | None]:
    """``(min, max)`` of the learners' ids, re-read every :data:`ID_RANGE_SECONDS` per process (per app).

    Only where discover's random windows start depends on it, never who may be shown: every card comes from
    the statement's own filters at request time. A learner created since the last read is still found (the
    windows scan on from their pivot and wrap around), so the sample stays a fair random one.
    """
    cache = current_app.extensions.get("thrive_discover_ids")
    if cache is None:
        cache = current_app.extensions["thrive_discover_ids"] = TTLCache(1, ID_RANGE_SECONDS)
    found = cache.get("range")
    if found is None:
        found = cache["range"] = tuple(db.session.execute(select(func.min(Learner.id), func.max(Learner.id))).one())
    return found
