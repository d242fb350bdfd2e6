"""Issue 10 defect 8: system-only activity types, the back-date bound, revocation in every worker within 1 s."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from thrive.extensions import db
from thrive.models import ApiKey
from thrive.services.accounts import api_keys
from thrive.services.points.defaults import SYSTEM_ONLY_ACTIVITY_TYPES

from .conftest import assert_error


@pytest.mark.parametrize("activity_type", sorted(SYSTEM_ONLY_ACTIVITY_TYPES - {"achievement_earned"}))
def test_system_only_types_refused(api, ledger_count, activity_type):
    api.create_user("lms-1")
    before = ledger_count()
    assert_error(api.event("lms-1", activity_type, "sys:1", points=5), 422, "not_api_awardable")
    batch = api.post("/api/v1/events/batch", json={"events": [
        {"user": "lms-1", "activity_type": activity_type, "event_key": f"sys:{i}"} for i in range(3)]})
    assert batch.status_code == 200
    assert [r["status"] for r in batch.get_json()["results"]] == [422, 422, 422]
    assert batch.get_json()["results"][0]["error"]["code"] == "not_api_awardable"
    assert ledger_count() == before


def test_backdating_bounded_for_the_api(api, app, ledger_count):
    from thrive.config import Config

    assert Config.THRIVE_API_MAX_BACKDATE_DAYS == 30
    app.config["THRIVE_API_MAX_BACKDATE_DAYS"] = 30  # the default (tests/api/conftest.py lifts it)
    api.create_user("lms-1")
    now = datetime.now(UTC)
    old = (now - timedelta(days=31)).isoformat()
    recent = (now - timedelta(days=29)).isoformat()
    assert_error(api.event("lms-1", "quiz_completed", "q:old", occurred_at=old), 422, "occurred_at_too_old")
    assert api.event("lms-1", "quiz_completed", "q:recent", occurred_at=recent).status_code == 201
    app.config["THRIVE_API_MAX_BACKDATE_DAYS"] = 60
    assert api.event("lms-1", "quiz_completed", "q:old", occurred_at=old).status_code == 201


def test_revocation_reaches_every_worker_within_a_second(app, api, monkeypatch):
    """Another worker revokes (a DB write this process did not see); this process refuses the key after ≤ 1 s."""
    api.create_user("lms-1")
    assert api.get("/api/v1/users/lms-1").status_code == 200  # the key is now cached here
    with app.app_context():
        db.session.execute(update(ApiKey).values(revoked_at=datetime.now(UTC)))
        db.session.commit()
        db.session.remove()
    clock = [api_keys.time.monotonic()]
    monkeypatch.setattr(api_keys.time, "monotonic", lambda: clock[0])
    clock[0] += api_keys.REVOCATION_CHECK_SECONDS + 0.01
    assert_error(api.get("/api/v1/users/lms-1"), 401, "unauthorized")
