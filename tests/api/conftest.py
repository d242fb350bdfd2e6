"""Fixtures for the integration API tests (§13): an authenticated JSON client and ledger counts."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from thrive.extensions import db
from thrive.models import LedgerEntry


class ApiClient:
    """``app.test_client()`` with the bearer key on every request."""

    def __init__(self, client, headers: dict):
        self.client = client
        self.headers = headers

    def _call(self, method: str, path: str, **kwargs):
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return getattr(self.client, method)(path, headers=headers, **kwargs)

    def get(self, path, **kw):
        return self._call("get", path, **kw)

    def post(self, path, **kw):
        return self._call("post", path, **kw)

    def put(self, path, **kw):
        return self._call("put", path, **kw)

    def create_user(self, external_id: str, **fields) -> dict:
        fields.setdefault("username", external_id.replace(":", "-"))
        response = self.put(f"/api/v1/users/{external_id}", json=fields)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def event(self, user: str, activity_type: str = "quiz_completed", event_key: str = "k", **fields):
        return self.post("/api/v1/events", json={"user": user, "activity_type": activity_type,
                                                 "event_key": event_key, **fields})


@pytest.fixture
def api(app, client, api_headers) -> ApiClient:
    # These tests replay fixed 2026 dates: the API's back-date bound (default 30 days) is lifted here and
    # tested with its default in test_api_policy.py.
    app.config["THRIVE_API_MAX_BACKDATE_DAYS"] = 3650
    return ApiClient(client, api_headers)


@pytest.fixture
def ledger_count(app):
    """``ledger_count()`` → number of ledger rows (read in a fresh app context)."""

    def count() -> int:
        with app.app_context():
            n = db.session.scalar(select(func.count(LedgerEntry.id)))
            db.session.remove()
            return n

    return count


def assert_error(response, status: int, code: str) -> dict:
    """The response is a §13 error body with ``status`` and ``code``; returns the error object."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.is_json, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code, body
    assert body["error"]["message"]
    return body["error"]
