"""A single award's statements on PostgreSQL (issue 12, §15): four between BEGIN and COMMIT, run on the driver's
cursor with the same values and errors as through SQLAlchemy."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError

from thrive.extensions import db
from thrive.models import Learner, LearnerState, LedgerEntry
from thrive.services.points.award import award
from thrive.services.points.driver_sql import DriverStatement
from thrive.services.points.statements import (
    _LEDGER_BINDS,
    DRIVER_INSERT_LEDGER_AND_STATE,
    STATE_COLUMNS,
    lock_driver,
    lock_statement,
)
from thrive.services.weekly.circles.goal import _week_key
from thrive.timeutil import platform_week, utcnow


@pytest.fixture
def pg(app_ctx):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the PostgreSQL award path (SQLite keeps its own: BEGIN IMMEDIATE, counts in the lock)")
    return app_ctx


def _statements_of(fn) -> list[str]:
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        fn()
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return seen


def test_a_single_award_is_four_statements(pg, make_learner):
    learner = make_learner()
    award(learner.id, "comment_posted", event_key="warm")  # first-award work (level, streak) out of the way
    seen = _statements_of(lambda: award(learner.id, "comment_posted", event_key="s1"))
    assert len(seen) == 4, seen
    lock, caps, write, circle = seen
    # the learner's row lock and the circles' week lock (shared) in one statement …
    assert "FOR UPDATE OF learner_states" in lock and "pg_advisory_xact_lock_shared" in lock
    # … the cap count after it (its snapshot follows the lock) …
    assert lock.startswith("SELECT") and caps.startswith("SELECT") and "count(ledger_entries.id)" in caps
    # … the ledger row and the learner's state in one statement …
    assert write.startswith("WITH") and "UPDATE learner_states" in write and "INSERT INTO ledger_entries" in write
    # … and the membership update with the week-assigned check (a learner without a circle this week)
    assert "UPDATE circle_memberships" in circle and "circle_weeks" in circle
    db.session.expire_all()
    entry = db.session.scalar(select(LedgerEntry).where(LedgerEntry.event_key == "s1"))
    state = db.session.get(LearnerState, learner.id)
    assert entry.points == 5 and state.total_points == 10 and state.comments_posted == 2


def test_a_back_dated_award_takes_no_week_lock(pg, make_learner):
    learner = make_learner()
    award(learner.id, "comment_posted", event_key="warm")
    last_week = utcnow().replace(microsecond=0) - timedelta(days=8)
    assert platform_week(last_week) != platform_week(utcnow())
    seen = _statements_of(lambda: award(learner.id, "comment_posted", event_key="b1", occurred_at=last_week))
    # the circle hook skips a closed week: no week lock to wait for, no membership statement
    assert not any("pg_advisory" in s or "circle_memberships" in s for s in seen), seen


def test_the_driver_cursor_reads_what_sqlalchemy_reads(pg, make_learner):
    learner = make_learner()
    db.session.get(Learner, learner.id).notification_prefs = {"streak_milestone": False}
    db.session.commit()
    first = award(learner.id, "comment_posted", event_key="k1", metadata={"topic": "DDD"})
    params = {"learner_id": learner.id, "event_key": "k1", "shared_key": _week_key(platform_week(utcnow()))}
    connection = db.session.connection()
    raw = lock_driver("id", (), True).execute_one(connection, params)
    via = connection.execute(lock_statement("id", (), True), params).first()
    assert type(raw) is tuple  # nothing listens to cursor events: the driver's cursor answered
    assert raw == tuple(via)   # same values and types (dates, instants, JSON prefs and stored result)
    assert raw[-1] == ""       # the advisory lock's column
    known = raw[len(LearnerState.__table__.c) + 2]
    assert known == first.event_id
    db.session.rollback()


def test_the_driver_cursor_raises_sqlalchemys_errors(pg, make_learner):
    learner = make_learner()
    award(learner.id, "comment_posted", event_key="dup")
    entry = db.session.scalar(select(LedgerEntry).where(LedgerEntry.event_key == "dup"))
    state = db.session.get(LearnerState, learner.id)
    row = {column: getattr(entry, name) for column, name in _LEDGER_BINDS}
    row |= {name: getattr(state, name) for name in STATE_COLUMNS} | {"b_learner_id": learner.id}
    connection = db.session.connection()
    with pytest.raises(IntegrityError):  # the unique event key, as the award path catches it
        DRIVER_INSERT_LEDGER_AND_STATE.execute_one(connection, row)
    db.session.rollback()
    # the statement's result: the new row's id, the state written in the same statement
    row["event_key"] = "folded"
    row["total_points"] = 42
    new_id = DRIVER_INSERT_LEDGER_AND_STATE.execute_one(db.session.connection(), row)[0]
    db.session.commit()
    db.session.expire_all()
    assert db.session.scalar(select(LedgerEntry.id).where(LedgerEntry.event_key == "folded")) == new_id
    assert db.session.get(LearnerState, learner.id).total_points == 42


def test_execute_one_without_a_row_answers_none(app_ctx):
    from sqlalchemy import bindparam

    statement = DriverStatement(select(LedgerEntry.id).where(LedgerEntry.event_key == bindparam("k")))
    assert statement.execute_one(db.session.connection(), {"k": "absent", "extra": 1}) is None
    db.session.rollback()
