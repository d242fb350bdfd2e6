"""Prebuilt statements of the award path (§4.1, §15): ledger and state writes, locks, key and cap look-ups.

Built once at import; :mod:`thrive.services.points.locks` runs them for an award transaction. The
``DRIVER_*`` ones go through the driver's ``executemany`` (:mod:`.driver_sql`); the ``per_dialect`` ones
are ``{"sqlite": …, "postgresql": …}`` (an IN-list on SQLite, one array parameter on PostgreSQL).
"""
from __future__ import annotations

from functools import lru_cache

from sqlalchemy import BigInteger, Integer, String, bindparam, case, cast, func, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from thrive.models import (
    Celebration,
    Learner,
    LearnerState,
    LedgerDuplicate,
    LedgerEntry,
    Notification,
    ProgressionEvent,
)
from thrive.services.points.driver_sql import DriverStatement, per_dialect

_ledger = LedgerEntry.__table__
_lc = _ledger.c
_states = LearnerState.__table__
_sc = _states.c
_learners = Learner.__table__

#: Columns of learner_states an award may change (all but the key).
STATE_COLUMNS = tuple(c.name for c in _states.c if c.name != "learner_id")
_LEDGER_COLUMNS = ("learner_id", "activity_type", "category", "points", "capped", "event_key", "payload_hash",
                   "description", "meta", "occurred_at", "local_date", "week", "result", "created_at",
                   "rule_version")

#: Multi-row INSERT … RETURNING (id, event_key): the ids are matched to the rows by their unique event key,
#: so SQLAlchemy may batch the rows freely (with ``sort_by_parameter_order`` it sends one row per
#: statement on SQLite, which has no sentinel to sort by: 172,003 INSERTs for the OULAD extract).
#: (bind name, EntryRow attribute) of a ledger row: the model's ``meta`` is the ``metadata`` column.
_LEDGER_BINDS = tuple(("metadata" if name == "meta" else name, name) for name in _LEDGER_COLUMNS)
INSERT_LEDGER = insert(_ledger).returning(_lc.id, _lc.event_key)
UPDATE_STATE = (
    update(_states).where(_sc.learner_id == bindparam("b_learner_id"))
    .values({name: bindparam(name) for name in STATE_COLUMNS})
)
#: The batch forms run through the driver's executemany (:mod:`.driver_sql`); SQLite's ledger ids are read back.
DRIVER_UPDATE_STATE = DriverStatement(UPDATE_STATE)
DRIVER_INSERT_LEDGER = DriverStatement(insert(_ledger).values({c: bindparam(c) for c, _n in _LEDGER_BINDS}))
DRIVER_INSERT_LEDGER_WITH_ID = DriverStatement(insert(_ledger).values(
    {c: bindparam(c) for c in ("id", *(c for c, _n in _LEDGER_BINDS))}))
#: One row on PostgreSQL (a single award): the id from the sequence by RETURNING, one round trip.
DRIVER_INSERT_LEDGER_RETURNING_ID = DriverStatement(
    insert(_ledger).values({c: bindparam(c) for c, _n in _LEDGER_BINDS}).returning(_lc.id))
#: One row and its learner's state on PostgreSQL (a single award): the INSERT … RETURNING id and the state UPDATE
#: as one statement (data-modifying CTEs; binds of both, the state's key as ``b_learner_id``), one round trip.
_NEW_ENTRY = insert(_ledger).values({c: bindparam(c) for c, _n in _LEDGER_BINDS}).returning(_lc.id).cte("new_entry")
DRIVER_INSERT_LEDGER_AND_STATE = DriverStatement(select(_NEW_ENTRY.c.id).add_cte(UPDATE_STATE.cte("state_update")))
RESERVE_LEDGER_IDS = text("SELECT nextval(pg_get_serial_sequence('ledger_entries', 'id')) "
                          "FROM generate_series(1, :n)")
MAX_LEDGER_ID = select(func.max(_lc.id))
LEDGER_IDS_AFTER = select(_lc.id, _lc.event_key).where(_lc.id > bindparam("after"))
UPDATE_RESULT = update(_ledger).where(_lc.id == bindparam("b_id")).values(result=bindparam("result"))
EXISTING_KEYS = per_dialect(lambda member: select(
    _lc.event_key, _lc.id, _lc.learner_id, _lc.activity_type, _lc.payload_hash, _lc.result
).where(member(_lc.event_key, "keys", String)))
_notes = Notification.__table__
_celebrations = Celebration.__table__
INSERT_PROGRESSION = insert(ProgressionEvent.__table__)
INSERT_NOTIFICATION = insert(_notes)
INSERT_CELEBRATION = insert(_celebrations)


def _driver_insert(table, fallback) -> DriverStatement:
    """Every column but the id bound by name, through the driver (the Core ``fallback`` for other rows)."""
    return DriverStatement(insert(table).values({c.name: bindparam(c.name) for c in table.c if c.name != "id"}),
                           fallback)


DRIVER_PROGRESSION = _driver_insert(ProgressionEvent.__table__, INSERT_PROGRESSION)
_DEDUPED = {
    "notification": (
        _driver_insert(_notes, INSERT_NOTIFICATION),
        per_dialect(lambda member: select(_notes.c.dedupe_key).where(member(_notes.c.dedupe_key, "keys", String))),
    ),
    "celebration": (
        _driver_insert(_celebrations, INSERT_CELEBRATION),
        per_dialect(lambda member: select(_celebrations.c.dedupe_key).where(
            member(_celebrations.c.dedupe_key, "keys", String))),
    ),
}


def _driver_insert_new(table) -> DriverStatement:
    """PostgreSQL: :func:`_driver_insert` that skips a row whose unique ``dedupe_key`` exists (``ON CONFLICT
    (dedupe_key) DO NOTHING``; a concurrent writer of the same key is waited for, then skipped)."""
    def skip(ins):
        return ins.on_conflict_do_nothing(index_elements=[table.c.dedupe_key])

    return DriverStatement(skip(postgresql.insert(table).values(
        {c.name: bindparam(c.name) for c in table.c if c.name != "id"})), skip(postgresql.insert(table)))


#: PostgreSQL: the deduplicated outbox rows in one statement each, no look-up of existing keys first.
DEDUPED_NEW_ONLY = {"notification": _driver_insert_new(_notes), "celebration": _driver_insert_new(_celebrations)}
EXISTING_KEY = select(_lc.id).where(_lc.event_key == bindparam("event_key"))


def _bump_duplicates(dialect) -> object:
    """``INSERT … ON CONFLICT (ledger_entry_id) DO UPDATE count = count + n, last_at = the later one``."""
    table = LedgerDuplicate.__table__
    ins = dialect.insert(table)
    later = case((ins.excluded.last_at > table.c.last_at, ins.excluded.last_at), else_=table.c.last_at)
    return ins.on_conflict_do_update(index_elements=[table.c.ledger_entry_id],
                                     set_={"count": table.c.count + ins.excluded.count, "last_at": later})


#: One statement per dialect, executed (executemany) only when a transaction answered duplicates.
BUMP_DUPLICATES = {"sqlite": _bump_duplicates(sqlite), "postgresql": _bump_duplicates(postgresql)}

CAP_KINDS = ("day", "week", "ever")


def _count_uncapped(kind: str):
    q = select(func.count(_lc.id)).where(
        _lc.learner_id == _sc.learner_id, _lc.activity_type == bindparam("activity_type"), _lc.capped.is_(False)
    )
    if kind == "day":
        q = q.where(_lc.local_date == bindparam("cap_day"))
    elif kind == "week":
        q = q.where(_lc.week == bindparam("cap_week"))
    return q.scalar_subquery().label(f"cap_{kind}")


@lru_cache(maxsize=32)
def lock_statement(by: str, caps: tuple[str, ...], shared_lock: bool = False):
    """``SELECT state, time zone, prefs, the event key's entry (if any)[, cap counts] … FOR UPDATE``.

    ``by`` is ``"id"`` (bind ``learner_id``) or ``"external_id"`` (bind
    ``external_id``: the API resolves the learner inside the lock). ``caps`` names
    the uncapped counts to fold in (binds ``activity_type``, ``cap_day``, ``cap_week``).
    ``shared_lock`` (PostgreSQL): also take the advisory lock ``shared_key`` shared, in the same round trip
    (a hook's, see :func:`~thrive.services.points.hooks.register_shared_lock`), as a last column.
    """
    known = _ledger.alias("known")  # the entry already holding the event key, if any (outer join: 0 or 1 row)
    cols = [*_sc, _learners.c.timezone, _learners.c.notification_prefs,
            *(known.c[name].label(f"known_{name}") for name in _KNOWN_COLUMNS)]
    cols.extend(_count_uncapped(kind) for kind in caps)
    if shared_lock:
        cols.append(cast(func.pg_advisory_xact_lock_shared(bindparam("shared_key", type_=BigInteger)), String)
                    .label("shared_lock"))
    where = (_sc.learner_id == bindparam("learner_id") if by == "id"
             else _learners.c.external_id == bindparam("external_id"))
    joined = (_states.join(_learners, _learners.c.id == _sc.learner_id)
              .outerjoin(known, known.c.event_key == bindparam("event_key")))
    return select(*cols).select_from(joined).where(where).with_for_update(of=_states)


_KNOWN_COLUMNS = ("id", "learner_id", "activity_type", "payload_hash", "result")
#: Position of ``known_id`` in a :func:`lock_statement` row (after the state columns, time zone and prefs).
KNOWN_AT = len(_states.c) + 2


@lru_cache(maxsize=32)
def lock_driver(by: str, caps: tuple[str, ...], shared_lock: bool = False) -> DriverStatement:
    """:func:`lock_statement` as a :class:`DriverStatement` (run by :meth:`DriverStatement.execute_one`)."""
    return DriverStatement(lock_statement(by, caps, shared_lock))


#: Lock many learners at once (a batch), in id order so concurrent batches cannot deadlock.
LOCK_MANY = per_dialect(lambda member: (
    select(*_sc, _learners.c.timezone, _learners.c.notification_prefs, _learners.c.external_id)
    .select_from(_states.join(_learners, _learners.c.id == _sc.learner_id))
    .where(member(_sc.learner_id, "ids", Integer))
    .order_by(_sc.learner_id).with_for_update(of=_states)
))
LOCK_MANY_BY_EXTERNAL = per_dialect(lambda member: (
    select(*_sc, _learners.c.timezone, _learners.c.notification_prefs, _learners.c.external_id)
    .select_from(_states.join(_learners, _learners.c.id == _sc.learner_id))
    .where(member(_learners.c.external_id, "ext", String))
    .order_by(_sc.learner_id).with_for_update(of=_states)
))
#: Uncapped counts of a batch's learners and capped activity types, grouped (one query per batch).
CAP_GROUPS = per_dialect(lambda member: (
    select(_lc.learner_id, _lc.activity_type, _lc.local_date, _lc.week, func.count(_lc.id))
    .where(member(_lc.learner_id, "ids", Integer), member(_lc.activity_type, "types", String),
           _lc.capped.is_(False))
    .group_by(_lc.learner_id, _lc.activity_type, _lc.local_date, _lc.week)
))
