"""Migration economy_0004 (§4.2, §4.4, §11) up and down on SQLite and PostgreSQL; older entries keep no version."""
from __future__ import annotations

from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from tests.conftest import _config
from tests.services.admin.test_migration import empty_database  # noqa: F401  (fixture)
from thrive import create_app
from thrive.extensions import db


def test_rule_versions_and_moderation_tables_up_and_down(empty_database):  # noqa: F811
    app = create_app(_config(empty_database))
    with app.app_context():
        upgrade(revision="0003_feed_indexes")
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO point_rules (activity_type, label, base_points, perfect_bonus_percent,"
                              " enabled, allow_custom_points, allow_negative, requires_description, updated_at)"
                              " VALUES ('quiz_completed', 'Quiz', 20, 0, true, false, false, false,"
                              " CURRENT_TIMESTAMP)"))
        upgrade(revision="economy_0004")
        inspector = inspect(db.engine)
        assert {"point_rule_versions", "feed_reports", "hidden_feed_items", "moderation_actions"} <= set(
            inspector.get_table_names())
        assert "rule_version" in {c["name"] for c in inspector.get_columns("ledger_entries")}
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT version FROM point_rules")).scalar_one() == 1
        downgrade(revision="0003_feed_indexes")
        inspector = inspect(db.engine)
        assert "point_rule_versions" not in inspector.get_table_names()
        assert "version" not in {c["name"] for c in inspector.get_columns("point_rules")}
        upgrade(revision="heads")
        db.engine.dispose()
