"""Bad input answers 400/404 with a clear message, never 500 (issue 10 defect 5, §13, §15)."""
from __future__ import annotations

import base64

import pytest

from tests.conftest import csrf_token_from

HUGE = "9" * 30
BEYOND_64 = str(2**63)
ODD_DIGITS = ["١٢", "²", "１２"]


@pytest.fixture
def signed_in(client, auth, make_learner):
    make_learner("learner")
    auth.login()
    return client


@pytest.mark.parametrize("value", [HUGE, BEYOND_64, *ODD_DIGITS])
def test_query_params_and_forms(signed_in, value):
    client = signed_in
    make = client.get("/settings").get_data(as_text=True)
    token = csrf_token_from(make)
    for path in (f"/notifications?page={value}", f"/journey?page={value}", f"/u/learner/followers?page={value}",
                 f"/community?before={value}"):
        response = client.get(path)
        assert response.status_code in (200, 400, 404), (path, response.status_code)
    response = client.post("/community/cheer", data={"csrf_token": token, "kind": "entry", "id": value})
    assert response.status_code in (400, 404), response.status_code
    response = client.post("/notifications/read-all", data={"csrf_token": token, "page": value})
    assert response.status_code == 302


@pytest.mark.parametrize("value", [HUGE, BEYOND_64, *ODD_DIGITS])
def test_url_segments(signed_in, value):
    token = csrf_token_from(signed_in.get("/settings").get_data(as_text=True))
    response = signed_in.post(f"/notifications/{value}/read", data={"csrf_token": token})
    assert response.status_code == 404


def test_cursors(signed_in, client, api_headers):
    bad = base64.urlsafe_b64encode(f"2026-01-01T00:00:00.000000|0|{HUGE}".encode()).decode()
    assert signed_in.get(f"/community?before={bad}").status_code == 400
    client.put("/api/v1/users/lms-1", json={"username": "lms1"}, headers=api_headers)
    api_bad = base64.urlsafe_b64encode(f"2026-01-01T00:00:00+00:00|{HUGE}".encode()).decode()
    response = client.get(f"/api/v1/users/lms-1/events?cursor={api_bad}", headers=api_headers)
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_cursor"
    response = client.get(f"/api/v1/users/lms-1/events?limit={HUGE}", headers=api_headers)
    assert response.status_code == 400


def test_deep_json_and_overflowing_dates(client, api_headers):
    client.put("/api/v1/users/lms-1", json={"username": "lms1", "timezone": "America/Los_Angeles"},
               headers=api_headers)
    deep = b'{"user": "lms-1", "metadata": ' + b"[" * 1000 + b"]" * 1000 + b"}"
    response = client.post("/api/v1/events", data=deep, headers={**api_headers, "Content-Type": "application/json"})
    assert response.status_code == 400 and response.get_json()["error"]["message"]
    for instant in ("0001-01-01T00:00:00-05:00", "0001-01-01T00:00:00+05:00", "0001-01-01T03:00:00Z"):
        response = client.post("/api/v1/events", json={"user": "lms-1", "activity_type": "quiz_completed",
                                                       "event_key": f"k-{instant}", "occurred_at": instant},
                               headers=api_headers)
        assert response.status_code in (400, 422), (instant, response.status_code, response.get_json())
