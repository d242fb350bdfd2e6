"""The API key check on the hot path (§13, §15; issue 12 item 2): cached per process, no read transaction."""
from __future__ import annotations

from thrive.extensions import db
from thrive.services.accounts import api_keys


def test_key_check_leaves_no_transaction_open_on_postgresql(app, api_key):
    """Cache miss and revocation poll read outside the session on PostgreSQL: the request's transaction
    begins with its write. (On SQLite they are ordinary in-process session reads.)"""
    with app.app_context():
        api_keys._verified.clear()
        api_keys._revocations.clear()
        assert api_keys.verify_api_key_cached(api_key) is not None  # miss: poll + key read
        assert db.session().in_transaction() is (db.engine.dialect.name == "sqlite")
        db.session.remove()


def test_a_cache_miss_still_refuses_bad_and_revoked_keys(app, api_key):
    with app.app_context():
        api_keys._verified.clear()
        prefix = api_key.split("_")[1]
        assert api_keys.verify_api_key_cached(api_key[:-1] + ("A" if api_key[-1] != "A" else "B")) is None
        assert api_keys.verify_api_key_cached(f"thr_{prefix}") is None
        assert api_keys.verify_api_key_cached("xyz_" + api_key[4:]) is None
        assert api_keys.verify_api_key_cached(api_key).prefix == prefix
        api_keys.revoke_api_key(prefix)
        assert api_keys.verify_api_key_cached(api_key) is None
        db.session.remove()
