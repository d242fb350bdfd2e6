"""A request's leftover read transaction ends in COMMIT when it wrote nothing (PostgreSQL, issue 12).

Committing keeps psycopg's prepared statements (a rollback forgets them), so a
page's statements are planned once per connection; anything written — through
the ORM, Core or the driver's cursor — still ends in ROLLBACK.
"""
from __future__ import annotations

from sqlalchemy import func, insert, select, text

from thrive.extensions import db
from thrive.models import Follow
from thrive.web.transactions import end_read_only_transaction


def _follows() -> int:
    return db.session.scalar(select(func.count()).select_from(Follow))


def test_a_read_only_transaction_is_committed_on_postgresql(app, make_learner):
    make_learner()
    with app.test_request_context("/"):
        db.session.execute(select(func.count()).select_from(Follow)).scalar()
        ended = end_read_only_transaction(None)
        assert ended is (db.engine.dialect.name == "postgresql")  # SQLite keeps its rollback
        if ended:
            assert not db.session().in_transaction()


def test_a_transaction_that_wrote_is_left_to_the_rollback(app, make_learner):
    a, b = make_learner(), make_learner()
    with app.test_request_context("/"):
        db.session.execute(insert(Follow).values(follower_id=a.id, followed_id=b.id))  # Core, never committed
        assert end_read_only_transaction(None) is False
        db.session.remove()  # the teardown: rolls back
    with app.app_context():
        assert _follows() == 0


def test_a_write_through_the_driver_cursor_is_seen_too(app, make_learner):
    a, b = make_learner(), make_learner()
    with app.test_request_context("/"):
        connection = db.session.connection()
        if connection.dialect.name != "postgresql":
            return  # nothing is committed on SQLite either way (first test)
        cursor = connection.connection.dbapi_connection.cursor()
        cursor.execute("INSERT INTO follows (follower_id, followed_id, created_at) VALUES (%s, %s, now())",
                       (a.id, b.id))
        assert end_read_only_transaction(None) is False
        db.session.remove()
    with app.app_context():
        assert _follows() == 0


def test_an_error_or_pending_orm_changes_are_left_to_the_rollback(app, make_learner):
    a, b = make_learner(), make_learner()
    with app.test_request_context("/"):
        db.session.execute(select(1))
        assert end_read_only_transaction(RuntimeError("boom")) is False
        db.session.add(Follow(follower_id=a.id, followed_id=b.id))  # not flushed
        assert end_read_only_transaction(None) is False
        db.session.remove()
    with app.app_context():
        assert _follows() == 0


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
    """Ending with COMMIT does not expire what was read (as the rollback did not): still usable afterwards."""
    from thrive.models import Learner

    made = make_learner()
    with app.test_request_context("/"):
        learner = db.session.get(Learner, made.id)
        end_read_only_transaction(None)
        db.session.remove()
    assert learner.username == made.username  # detached, attributes still loaded
