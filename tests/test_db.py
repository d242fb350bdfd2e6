"""``thrive.db.read_rows`` (issue 12): the rows ``session.execute`` gives, in the session's transaction, with
pending ORM changes flushed first (autoflush). SQLite and (with THRIVE_TEST_DATABASE_URL) PostgreSQL."""
from __future__ import annotations

from sqlalchemy import bindparam, select

from thrive.db import read_rows
from thrive.extensions import db
from thrive.models import Learner


def test_same_rows_as_session_execute_and_pending_changes_are_seen(app, make_learner):
    ana = make_learner("ana", display_name="Ana")
    statement = select(Learner.id, Learner.display_name).where(Learner.id == bindparam("id"))
    with app.app_context():
        assert [tuple(r) for r in read_rows(statement, {"id": ana.id})] == \
            [tuple(r) for r in db.session.execute(statement, {"id": ana.id})] == [(ana.id, "Ana")]
        db.session.get(Learner, ana.id).display_name = "Ana María"   # pending, not flushed
        db.session.add(Learner(username="bo", display_name="Bo", timezone="UTC"))
        assert read_rows(statement, {"id": ana.id}).one() == (ana.id, "Ana María")
        assert read_rows(select(Learner.display_name).where(Learner.username == "bo")).scalar_one() == "Bo"
        db.session.rollback()  # the flushed changes were in the session's own transaction
        assert read_rows(statement, {"id": ana.id}).one() == (ana.id, "Ana")
        assert read_rows(select(Learner.id).where(Learner.username == "bo")).first() is None
