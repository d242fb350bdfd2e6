"""Migration admin_0004 (§11): is_admin folds into staff_role on SQLite and PostgreSQL, and back."""
from __future__ import annotations

import os
import uuid
import warnings

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SAWarning

from tests.conftest import BACKENDS, PG_ENV, _config
from thrive import create_app
from thrive.config import normalize_database_url
from thrive.extensions import db


@pytest.fixture(params=BACKENDS)
def empty_database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrate.db'}"
        return
    base = make_url(normalize_database_url(os.environ[PG_ENV]))
    name = f"thrive_mig_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_is_admin_becomes_staff_role_and_back(empty_database):
    app = create_app(_config(empty_database))
    with app.app_context():
        upgrade(revision="0003_feed_indexes")
        with db.engine.begin() as conn:
            for username, is_admin in (("boss", True), ("ada", False)):
                conn.execute(text(
                    "INSERT INTO learners (username, display_name, timezone, is_admin, is_active_account,"
                    " share_activities, share_tier_upgrades, share_profile, notification_prefs, created_at)"
                    " VALUES (:u, :u, 'UTC', :a, true, true, true, true, '{}', CURRENT_TIMESTAMP)"),
                    {"u": username, "a": is_admin})
        upgrade(revision="heads")
        with db.engine.connect() as conn:
            rows = dict((r[0], (r[1], bool(r[2]))) for r in conn.execute(
                text("SELECT username, staff_role, is_learner FROM learners")))
        assert rows == {"boss": ("admin", False), "ada": (None, True)}
        inspector = inspect(db.engine)
        columns = {c["name"] for c in inspector.get_columns("learners")}
        assert "is_admin" not in columns and {"staff_role", "is_learner"} <= columns
        with warnings.catch_warnings():  # reflection skips the expression index (checked below)
            warnings.simplefilter("ignore", SAWarning)
            indexes = {i["name"] for i in inspector.get_indexes("learners")}
        assert "ix_learners_staff_role" in indexes
        assert "audit_entries" in inspector.get_table_names()
        with db.engine.connect() as conn:  # the expression index on lower(username) survived
            names = conn.execute(text(
                "SELECT name FROM sqlite_master WHERE type = 'index'" if db.engine.dialect.name == "sqlite"
                else "SELECT indexname FROM pg_indexes WHERE tablename = 'learners'")).scalars().all()
        assert "ix_learners_username_lower" in names
        downgrade(revision="0003_feed_indexes")
        with db.engine.connect() as conn:
            rows = dict(conn.execute(text("SELECT username, is_admin FROM learners")).all())
        assert {k: bool(v) for k, v in rows.items()} == {"boss": True, "ada": False}
        db.engine.dispose()
