"""The award transaction's working set: locked learner states, cap counts, known event keys (§4.1, §15).

``award()`` and ``award_many()`` keep one :class:`AwardTx` per write
transaction (in ``Session.info``). It holds, for every learner the
transaction has locked, a plain in-memory copy of the ``learner_states``
row (:class:`StateRow`, never attached to the session) —
so a learner is locked once per transaction however many awards (a batch,
nested goal bonuses) touch them, and the row is written back with one
prebuilt Core ``UPDATE`` (no ORM unit of work).

Ledger rows are written with a prebuilt Core ``INSERT``; in a batch they wait
in :attr:`AwardTx.pending` and go to the database as one multi-row insert,
unless something needs them earlier (a hook, a tier/level-up row that refers
to the entry, a count or streak query) — :meth:`AwardTx.flush` is called
before any such read, so every SQL statement of the transaction sees every
award made so far.

Cap counts (uncapped entries per learner and type, by local date, ISO week
and ever) are read once — folded into the locking statement for a single
award, one grouped query per batch — and then kept up to date in memory.

The statements themselves are built once in :mod:`thrive.services.points.statements`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.orm import Session

from thrive.models import LedgerEntry
from thrive.services.points.statements import (
    _DEDUPED,
    _KNOWN_COLUMNS,
    _LEDGER_BINDS,
    BUMP_DUPLICATES,
    CAP_GROUPS,
    DEDUPED_NEW_ONLY,
    DRIVER_INSERT_LEDGER,
    DRIVER_INSERT_LEDGER_AND_STATE,
    DRIVER_INSERT_LEDGER_RETURNING_ID,
    DRIVER_INSERT_LEDGER_WITH_ID,
    DRIVER_PROGRESSION,
    DRIVER_UPDATE_STATE,
    EXISTING_KEYS,
    KNOWN_AT,
    LEDGER_IDS_AFTER,
    LOCK_MANY,
    LOCK_MANY_BY_EXTERNAL,
    MAX_LEDGER_ID,
    RESERVE_LEDGER_IDS,
    STATE_COLUMNS,
    _states,
)
from thrive.timeutil import local_date, platform_timezone_name, utcnow, week_label

TX_KEY = "thrive.points.award_tx"

def known_entry(row) -> KnownEntry | None:
    """The :class:`KnownEntry` of a :func:`lock_statement` row (None when the event key is new)."""
    if row[KNOWN_AT] is None:
        return None
    return KnownEntry(*row[KNOWN_AT:KNOWN_AT + len(_KNOWN_COLUMNS)])


@dataclass
class CapCounts:
    """Uncapped entries of one learner and activity type: ``ever``, per local date, per ISO week.

    ``complete`` means every date and week is loaded (absent = 0); otherwise
    only the keys present are known.
    """

    complete: bool = False
    ever: int | None = None
    days: dict[date, int] = field(default_factory=dict)
    weeks: dict[str, int] = field(default_factory=dict)

    def add(self, day: date, week: str) -> None:
        """Count one more uncapped entry."""
        if self.ever is not None:
            self.ever += 1
        if self.complete or day in self.days:
            self.days[day] = self.days.get(day, 0) + 1
        if self.complete or week in self.weeks:
            self.weeks[week] = self.weeks.get(week, 0) + 1


class EntryRow:
    """A ledger entry written by this transaction: the attributes of :class:`LedgerEntry`, as a plain object.

    Hooks read it like the model (``entry.points``, ``entry.meta``, ``entry.week`` …); it is not
    attached to the session (written by :data:`INSERT_LEDGER`), so it costs no ORM instrumentation.
    """

    __slots__ = ("id", "learner_id", "activity_type", "category", "points", "capped", "event_key", "payload_hash",
                 "description", "meta", "occurred_at", "local_date", "week", "result", "created_at",
                 "rule_version")

    def __init__(self, **values):
        for name in self.__slots__:
            setattr(self, name, values.get(name))

    @classmethod
    def new(cls, id, learner_id, activity_type, category, points, capped, event_key, payload_hash,  # noqa: A002
            description, meta, occurred_at, local_date, week, result, created_at, rule_version) -> EntryRow:
        """An entry from every field by position or name (the award path's constructor: no ``**`` loop)."""
        self = cls.__new__(cls)
        self.id, self.learner_id, self.activity_type, self.category = id, learner_id, activity_type, category
        self.points, self.capped, self.event_key, self.payload_hash = points, capped, event_key, payload_hash
        self.description, self.meta, self.occurred_at, self.local_date = description, meta, occurred_at, local_date
        self.week, self.result, self.created_at, self.rule_version = week, result, created_at, rule_version
        return self


class StateRow:
    """A locked ``learner_states`` row as a plain object (attributes of :class:`LearnerState`)."""

    __slots__ = tuple(c.name for c in _states.c)  # the table's order: rows of the locking statements start so

    def __init__(self, **values):
        for name in self.__slots__:
            setattr(self, name, values.get(name))

    @classmethod
    def from_values(cls, values) -> StateRow:
        """A state from the values of :attr:`__slots__`, in that order (a row of the locking statements)."""
        self = cls.__new__(cls)
        for name, value in zip(_STATE_SLOTS, values, strict=True):
            setattr(self, name, value)
        return self


_STATE_SLOTS = StateRow.__slots__


@dataclass(frozen=True)
class KnownEntry:
    """What the award path needs of a ledger entry that already holds an event key (looked up per batch)."""

    id: int
    learner_id: int
    activity_type: str
    payload_hash: str
    result: dict | None


@dataclass
class Locked:
    """A learner locked by this transaction: the transient state copy, time zone and notification prefs."""

    state: StateRow
    timezone: str
    prefs: dict | None
    dirty: bool = False


class AwardTx:
    """Per-transaction working set of the award path (see the module docstring)."""

    def __init__(self, session: Session):
        self.session = session
        self.sqlite = session.get_bind().dialect.name == "sqlite"
        self.dialect = "sqlite" if self.sqlite else "postgresql"
        self.locked: dict[int, Locked] = {}
        self.by_external: dict[str, int] = {}
        #: event key → ledger entry id (int), a :class:`KnownEntry`, this transaction's :class:`LedgerEntry`,
        #: or None (known absent)
        self.keys: dict[str, object] = {}
        self.caps: dict[tuple[int, str], CapCounts] = {}
        self.pending: list[EntryRow] = []
        #: rows that refer to a queued entry or are deduplicated per batch: (kind, entry, row)
        self.outbox: list[tuple[str, LedgerEntry | None, dict]] = []
        #: per-transaction answers of hooks' ``applies`` look-ups (e.g. weeks with open goals)
        self.memo: dict = {}
        #: entries whose event key a top-level submission repeated, with the instant it was answered
        self.duplicates: list[tuple[object, object]] = []
        self._connection = None

    def connection(self):
        """The transaction's :class:`~sqlalchemy.engine.Connection` (``session.connection()``, asked once)."""
        connection = self._connection
        if connection is None:
            connection = self._connection = self.session.connection()
        return connection

    # ------------------------------------------------------------ locking

    def adopt(self, row, *, with_external: bool = False) -> Locked:
        """Keep a locked ``learner_states`` row (joined with the learner's time zone and prefs).

        Every locking statement selects the learner_states columns first, in table order (= StateRow
        slots), then the time zone and the prefs, then (``with_external``: :data:`LOCK_MANY`) the external id.
        """
        n = len(_STATE_SLOTS)
        state = StateRow.from_values(row[:n])
        locked = Locked(state, row[n], row[n + 1])
        self.locked[state.learner_id] = locked
        if with_external and row[n + 2] is not None:
            self.by_external[row[n + 2]] = state.learner_id
        return locked

    # ------------------------------------------------------------ per-transaction snapshots

    def registry(self):
        """The rule registry, loaded once per transaction (every award of a batch is priced by one snapshot)."""
        registry = self.memo.get("registry")
        if registry is None:
            from thrive.services.points.registry import load_registry

            registry = self.memo["registry"] = load_registry()
        return registry

    def platform_zone(self) -> str:
        """``THRIVE_TIMEZONE``, read once per transaction."""
        name = self.memo.get("platform_zone")
        if name is None:
            name = self.memo["platform_zone"] = platform_timezone_name()
        return name

    def platform_week(self, instant, day=None, zone_name: str | None = None) -> str:
        """Platform ISO week of ``instant``; ``day`` is its local date in ``zone_name`` when already known."""
        platform = self.platform_zone()
        if day is not None and zone_name == platform:
            return week_label(day)
        return week_label(local_date(instant, platform))

    def week_of_now(self, now) -> str:
        """Platform ISO week of the transaction's ``now`` (memoised: asked by every award's stored result)."""
        key = ("week_of_now", now)
        week = self.memo.get(key)
        if week is None:
            week = self.memo[key] = self.platform_week(now)
        return week

    def lock_many(self, learner_ids=(), external_ids=()) -> None:
        """Lock every learner of a batch not locked yet: one statement per 900 ids, in id order."""
        from more_itertools import chunked

        ids = sorted({i for i in learner_ids if i not in self.locked})
        for part in chunked(ids, 900):
            for row in self.session.execute(LOCK_MANY[self.dialect], {"ids": part}):
                self.adopt(row, with_external=True)
        ext = sorted({e for e in external_ids if e not in self.by_external})
        for part in chunked(ext, 900):
            for row in self.session.execute(LOCK_MANY_BY_EXTERNAL[self.dialect], {"ext": part}):
                if row.learner_id not in self.locked:
                    self.adopt(row, with_external=True)
                else:
                    self.by_external[row.external_id] = row.learner_id

    def load_keys(self, keys) -> None:
        """Look up a batch's event keys in one query per 900 keys (absent keys are remembered too)."""
        from more_itertools import chunked

        wanted = sorted({k for k in keys if k not in self.keys})
        for part in chunked(wanted, 900):
            found = {row.event_key: KnownEntry(row.id, row.learner_id, row.activity_type, row.payload_hash,
                                               row.result)
                     for row in self.session.execute(EXISTING_KEYS[self.dialect], {"keys": part})}
            for key in part:
                self.keys[key] = found.get(key)

    def load_caps(self, pairs) -> None:
        """All uncapped counts of these (learner id, capped activity type) pairs, grouped — complete in memory.

        One grouped query per 900 learners (over the pairs' types); only the pairs asked for are kept.
        """
        from more_itertools import chunked

        fresh = {pair: CapCounts(complete=True, ever=0) for pair in set(pairs) if pair not in self.caps}
        if not fresh:
            return
        self.flush()
        ids = sorted({i for i, _t in fresh})
        types = sorted({t for _i, t in fresh})
        for part in chunked(ids, 900):
            for learner_id, activity_type, day, week, n in self.session.execute(
                CAP_GROUPS[self.dialect], {"ids": part, "types": types}
            ).tuples():
                counts = fresh.get((learner_id, activity_type))
                if counts is None:
                    continue
                counts.ever += n
                counts.days[day] = counts.days.get(day, 0) + n
                counts.weeks[week] = counts.weeks.get(week, 0) + n
        self.caps.update(fresh)

    # ------------------------------------------------------------ writing

    def add_entry(self, entry: LedgerEntry, *, now_write: bool) -> None:
        """Queue a new ledger row (written at the next :meth:`flush`, at once when ``now_write``)."""
        self.keys[entry.event_key] = entry
        self.pending.append(entry)
        if now_write:
            self.flush()

    def add_duplicate(self, entry, now) -> None:
        """Count one duplicate submission of ``entry``'s key (answered at ``now``), written at the next flush."""
        self.duplicates.append((entry, now))

    def _flush_duplicates(self) -> None:
        # One executemany per transaction (a batch's duplicates summed per entry), only when there are any.
        bumps: dict[int, list] = {}
        for entry, now in self.duplicates:
            bump = bumps.setdefault(entry.id, [0, now])
            bump[0] += 1
            bump[1] = max(bump[1], now)
        rows = [{"ledger_entry_id": i, "count": n, "last_at": at} for i, (n, at) in sorted(bumps.items())]
        self.session.execute(BUMP_DUPLICATES["sqlite" if self.sqlite else "postgresql"], rows)
        self.duplicates.clear()

    def queue(self, kind: str, entry: LedgerEntry | None, row: dict) -> None:
        """Queue a ``progression`` event (its ``ledger_entry_id`` taken from ``entry`` at the flush), or a
        ``notification`` / ``celebration`` row, written once per ``dedupe_key`` at the flush (§9)."""
        self.outbox.append((kind, entry, row))

    def _flush_outbox(self) -> None:
        progression = [{**row, "ledger_entry_id": entry.id} for kind, entry, row in self.outbox
                       if kind == "progression"]
        if progression:
            DRIVER_PROGRESSION.executemany(self.session, progression)
        now = utcnow()
        for kind, (statement, existing) in _DEDUPED.items():
            rows = [row for k, _entry, row in self.outbox if k == kind]
            if not rows:
                continue
            if self.sqlite:
                keys = sorted({r["dedupe_key"] for r in rows if r.get("dedupe_key")})
                seen = set(self.session.scalars(existing[self.dialect], {"keys": keys})) if keys else set()
            else:  # the keys already written are skipped by the INSERT itself (ON CONFLICT DO NOTHING)
                seen = set()
                statement = DEDUPED_NEW_ONLY[kind]
            fresh = []
            for row in rows:
                key = row.get("dedupe_key")
                if key and key in seen:
                    continue
                seen.add(key)
                fresh.append({"created_at": now, **row})
            if fresh:
                statement.executemany(self.session, fresh)
        self.outbox.clear()

    def flush(self) -> None:
        """Write queued ledger rows (one multi-row INSERT … RETURNING id), the outbox, and dirty states.

        A single award on PostgreSQL (one queued row, only its learner's state changed) writes both in one
        statement (:data:`DRIVER_INSERT_LEDGER_AND_STATE`).
        """
        dirty = [locked for locked in self.locked.values() if locked.dirty]
        if self.pending:
            rows = [{column: getattr(e, name) for column, name in _LEDGER_BINDS} for e in self.pending]
            if (not self.sqlite and len(rows) == 1 and len(dirty) == 1
                    and dirty[0].state.learner_id == rows[0]["learner_id"]):
                state = dirty[0].state
                row = rows[0]
                row["b_learner_id"] = state.learner_id
                for name in STATE_COLUMNS:
                    row[name] = getattr(state, name)
                ids = {row["event_key"]: DRIVER_INSERT_LEDGER_AND_STATE.execute_one(self.connection(), row)[0]}
                dirty[0].dirty = False
                dirty = []
            elif self.sqlite:
                # The transaction holds SQLite's write lock: the rows after the largest id are the ones it inserts.
                before = self.session.execute(MAX_LEDGER_ID).scalar() or 0
                DRIVER_INSERT_LEDGER.executemany(self.session, rows)
                ids = dict((key, new_id) for new_id, key in self.session.execute(LEDGER_IDS_AFTER, {"after": before}))
            elif len(rows) == 1:  # a single award: INSERT … RETURNING id, one round trip
                ids = {rows[0]["event_key"]: DRIVER_INSERT_LEDGER_RETURNING_ID.execute_returning(self.session, rows[0])}
            else:
                # Ids reserved from the sequence in one statement, then one pipelined executemany: psycopg parses
                # the single-row INSERT once (a multi-row VALUES of 1,000 rows it parsed anew for every batch).
                reserved = sorted(self.session.execute(RESERVE_LEDGER_IDS, {"n": len(rows)}).scalars())
                for row, new_id in zip(rows, reserved, strict=True):
                    row["id"] = new_id
                DRIVER_INSERT_LEDGER_WITH_ID.executemany(self.session, rows)
                ids = {row["event_key"]: row["id"] for row in rows}
            if len(ids) != len(rows):  # pragma: no cover - keys are unique in a transaction (checked before)
                raise RuntimeError(f"{len(ids)} ids for {len(rows)} ledger rows")
            for entry in self.pending:
                entry.id = ids[entry.event_key]
            self.pending.clear()
        if self.outbox:
            self._flush_outbox()
        if self.duplicates:
            self._flush_duplicates()
        if dirty:
            DRIVER_UPDATE_STATE.executemany(self.session, [
                {"b_learner_id": locked.state.learner_id,
                 **{name: getattr(locked.state, name) for name in STATE_COLUMNS}}
                for locked in dirty
            ])
            for locked in dirty:
                locked.dirty = False


def award_tx(session: Session) -> AwardTx:
    """The session's :class:`AwardTx` for the open transaction (created on first use)."""
    tx = session.info.get(TX_KEY)
    if tx is None or tx.session is not session:
        tx = session.info[TX_KEY] = AwardTx(session)
    return tx


def end_award_tx(session: Session) -> None:
    """Forget the working set (after commit or rollback): the next transaction locks afresh."""
    session.info.pop(TX_KEY, None)

