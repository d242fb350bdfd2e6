"""How a request's database work is framed (PostgreSQL, issue 12; thrive/web/transactions.py).

GET and HEAD requests read in autocommit mode — no BEGIN, no "did it write?" and no COMMIT round trips —
and open a real transaction just before anything that writes or locks, so writes stay atomic and an
uncommitted write is still rolled back. Other requests keep the ordinary transaction, ended in COMMIT
when it wrote nothing (which keeps psycopg's prepared statements) and in ROLLBACK otherwise.
"""
from __future__ import annotations

import pytest
from sqlalchemy import func, insert, select, text

from thrive.db import write_transaction
from thrive.extensions import db
from thrive.models import Follow
from thrive.web.transactions import AUTOCOMMIT_READS, end_read_only_transaction, needs_transaction


def _follows() -> int:
    return db.session.scalar(select(func.count()).select_from(Follow))


def _driver():
    """The driver connection of the session's current connection and whether it reads in autocommit mode."""
    fairy = db.session.connection().connection
    return fairy.driver_connection, bool(fairy.info.get(AUTOCOMMIT_READS))


@pytest.fixture
def postgres_only(app):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("autocommit reads are a PostgreSQL path (SQLite keeps its transactions)")


def test_a_get_request_reads_outside_a_transaction(app, make_learner, postgres_only):
    make_learner()
    with app.test_request_context("/"):
        assert _follows() == 0
        driver, autocommit = _driver()
        assert autocommit and driver.autocommit
        assert driver.info.transaction_status == 0  # IDLE: nothing to commit or roll back
        assert end_read_only_transaction(None) is True
        db.session.remove()
        assert driver.autocommit is False  # back in the pool as an ordinary transactional connection


def test_a_write_in_a_get_request_opens_a_transaction_first(app, make_learner, postgres_only):
    a, b = make_learner(), make_learner()
    with app.test_request_context("/"):
        _follows()
        db.session.execute(insert(Follow).values(follower_id=a.id, followed_id=b.id))  # Core, never committed
        driver, _autocommit = _driver()
        assert driver.info.transaction_status != 0  # BEGIN was sent before the INSERT
        assert end_read_only_transaction(None) is False  # it wrote: left to the teardown's rollback
        db.session.remove()
    with app.app_context():
        assert _follows() == 0


def test_an_orm_flush_that_fails_half_way_writes_nothing(app, make_learner, postgres_only):
    from thrive.models import Learner

    a, b = make_learner(display_name="Before"), make_learner()
    with app.test_request_context("/"):
        learner = db.session.get(Learner, a.id)
        db.session.add(Follow(follower_id=a.id, followed_id=b.id))  # flushed first (an INSERT into follows)…
        learner.display_name = None  # …then this UPDATE of learners fails (NOT NULL)
        with pytest.raises(Exception):  # noqa: B017,PT011 — the driver's not-null violation
            db.session.commit()
        db.session.rollback()
        db.session.remove()
    with app.app_context():
        assert db.session.get(Learner, a.id).display_name == "Before"
        assert _follows() == 0


def test_write_transaction_in_a_get_request_is_atomic(app, make_learner, postgres_only):
    a, b, c = make_learner(), make_learner(), make_learner()
    with app.test_request_context("/"):
        _follows()
        with pytest.raises(RuntimeError), write_transaction() as session:
            session.execute(insert(Follow).values(follower_id=a.id, followed_id=b.id))
            driver, autocommit = _driver()
            assert not autocommit and not driver.autocommit  # checked out inside the block: transactional
            raise RuntimeError("boom")
        with write_transaction() as session:
            cursor = session.connection().connection.driver_connection.cursor()  # the award path's way
            cursor.execute("INSERT INTO follows (follower_id, followed_id, created_at) VALUES (%s, %s, now())",
                           (a.id, c.id))
        assert _follows() == 1  # and reads go on after it
        db.session.remove()
    with app.app_context():
        assert _follows() == 1


def test_a_locking_read_opens_a_transaction(app, make_learner, postgres_only):
    from thrive.models import Learner

    learner = make_learner()
    with app.test_request_context("/"):
        db.session.execute(select(Learner.id).where(Learner.id == learner.id).with_for_update()).all()
        driver, _autocommit = _driver()
        assert driver.info.transaction_status != 0  # the row lock is held until the transaction ends
        db.session.remove()


def test_which_statements_need_a_transaction():
    from thrive.models import Learner

    assert not needs_transaction(select(Learner.id))
    assert needs_transaction(select(Learner.id).with_for_update())
    assert needs_transaction(insert(Follow).values(follower_id=1, followed_id=2))
    assert needs_transaction(text("SELECT 1"))  # textual SQL could do anything
    assert needs_transaction("UPDATE learners SET locale = NULL")
    assert needs_transaction(func.pg_advisory_xact_lock(1))


def test_a_post_request_keeps_its_transaction_and_commits_when_it_wrote_nothing(app, make_learner):
    make_learner()
    with app.test_request_context("/", method="POST"):
        db.session.execute(select(func.count()).select_from(Follow)).scalar()
        ended = end_read_only_transaction(None)
        assert ended is (db.engine.dialect.name == "postgresql")  # SQLite keeps its rollback
        if ended:
            assert not db.session().in_transaction()


def test_a_post_request_that_wrote_is_left_to_the_rollback(app, make_learner):
    a, b = make_learner(), make_learner()
    with app.test_request_context("/", method="POST"):
        db.session.execute(insert(Follow).values(follower_id=a.id, followed_id=b.id))  # Core, never committed
        assert end_read_only_transaction(None) is False
        db.session.remove()  # the teardown: rolls back
    with app.app_context():
        assert _follows() == 0


def test_a_write_through_the_driver_cursor_is_seen_too(app, make_learner):
    a, b = make_learner(), make_learner()
    with app.test_request_context("/", method="POST"):
        connection = db.session.connection()
        if connection.dialect.name != "postgresql":
            return  # nothing is committed on SQLite either way
        cursor = connection.connection.dbapi_connection.cursor()
        cursor.execute("INSERT INTO follows (follower_id, followed_id, created_at) VALUES (%s, %s, now())",
                       (a.id, b.id))
        assert end_read_only_transaction(None) is False
        db.session.remove()
    with app.app_context():
        assert _follows() == 0


def test_an_error_or_pending_orm_changes_are_left_to_the_rollback(app, make_learner):
    a, b = make_learner(), make_learner()
    for method in ("GET", "POST"):
        with app.test_request_context("/", method=method):
            db.session.execute(select(1))
            assert end_read_only_transaction(RuntimeError("boom")) is False
            db.session.add(Follow(follower_id=a.id, followed_id=b.id))  # not flushed
            assert end_read_only_transaction(None) is False
            db.session.remove()
        with app.app_context():
            assert _follows() == 0


def test_outside_a_request_connections_are_transactional(app, postgres_only):
    with app.app_context():
        driver, autocommit = _driver()
        assert not autocommit and not driver.autocommit
        db.session.remove()


def test_page_statements_stay_prepared_between_requests(app, client, auth, make_learner):
    make_learner("learner")
    assert auth.login().status_code == 302
    for _ in range(7):  # psycopg prepares a statement from its 5th run on a connection
        assert client.get("/journey").status_code == 200
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            return
        # the pool hands the requests' one connection back here: its server-side prepared statements survive
        prepared = db.session.execute(text("SELECT count(*) FROM pg_prepared_statements")).scalar()
        db.session.remove()
    assert prepared > 0


def test_objects_read_in_the_request_stay_loaded(app, make_learner):
    """Ending without a rollback does not expire what was read: still usable afterwards."""
    from thrive.models import Learner

    made = make_learner()
    for method in ("GET", "POST"):
        with app.test_request_context("/", method=method):
            learner = db.session.get(Learner, made.id)
            end_read_only_transaction(None)
            db.session.remove()
        assert learner.username == made.username  # detached, attributes still loaded
