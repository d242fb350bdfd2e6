"""Idempotency under concurrency over real HTTP (§4.3, §13, §15).

A real threaded werkzeug server runs the app in a background thread; many
``requests`` calls are released at once from a thread pool. Runs on SQLite
and (with ``THRIVE_TEST_DATABASE_URL``) PostgreSQL, like every ``app`` test.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import func, select
from werkzeug.serving import make_server

from thrive.extensions import db
from thrive.models import Learner, LearnerState, LedgerEntry

N = 20


@pytest.fixture
def live_server(app):
    """Base URL of the app served by a threaded werkzeug server on a free port."""
    app.config["THRIVE_API_MAX_BACKDATE_DAYS"] = 3650  # fixed 2026 dates (the bound: test_api_policy.py)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def _all_at_once(calls):
    """Run the zero-argument ``calls`` concurrently, released together by a barrier; return their results."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait(timeout=30)
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def _post(url: str, headers: dict, payload: dict):
    def call():
        response = requests.post(url, json=payload, headers=headers, timeout=60)
        return response.status_code, response.json()
    return call


def _put_user(base: str, headers: dict, external_id: str = "lms-1") -> None:
    response = requests.put(f"{base}/api/v1/users/{external_id}", json={"username": external_id},
                            headers=headers, timeout=30)
    assert response.status_code == 201, response.text


def _ledger(app) -> tuple[int, int]:
    with app.app_context():
        rows = db.session.scalar(select(func.count(LedgerEntry.id)))
        total = db.session.scalar(select(func.coalesce(func.sum(LearnerState.total_points), 0)))
        db.session.remove()
        return rows, total


def test_concurrent_requests_with_one_event_key_award_once(app, live_server, api_headers):
    _put_user(live_server, api_headers)
    payload = {"user": "lms-1", "activity_type": "quiz_completed", "event_key": "lms:attempt:42",
               "metadata": {"score": 90}}
    answers = _all_at_once([_post(f"{live_server}/api/v1/events", api_headers, payload) for _ in range(N)])
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200] * (N - 1) + [201]
    bodies = [body for _, body in answers]
    assert sum(1 for b in bodies if b["duplicate"] is False) == 1
    assert {b["event_id"] for b in bodies} == {bodies[0]["event_id"]}
    assert {b["points_awarded"] for b in bodies} == {20} and {b["total_points"] for b in bodies} == {20}
    assert _ledger(app) == (1, 20)


def test_concurrent_requests_with_one_key_and_two_payloads(app, live_server, api_headers):
    """Whichever payload wins, its requests answer 201/200 and the other payload's 422; one row written."""
    _put_user(live_server, api_headers)
    url = f"{live_server}/api/v1/events"
    base = {"user": "lms-1", "activity_type": "comment_posted", "event_key": "shared"}
    calls = [_post(url, api_headers, {**base, "description": "A" if i % 2 else "B"}) for i in range(N)]
    answers = _all_at_once(calls)
    winners = [body for status, body in answers if status in (200, 201)]
    losers = [body for status, body in answers if status == 422]
    assert len(winners) == N // 2 and len(losers) == N // 2
    assert sorted(status for status, _ in answers if status != 422) == [200] * (N // 2 - 1) + [201]
    assert all(body["error"]["code"] == "event_key_conflict" for body in losers)
    assert _ledger(app) == (1, 5)


def test_concurrent_batches_with_overlapping_keys_award_each_key_once(app, live_server, api_headers):
    _put_user(live_server, api_headers)
    events = [{"user": "lms-1", "activity_type": "reaction_given", "event_key": f"r{i}",
               "occurred_at": f"2026-01-{1 + i // 10:02d}T08:00:00Z"} for i in range(50)]
    url = f"{live_server}/api/v1/events/batch"
    answers = _all_at_once([_post(url, api_headers, {"events": events}) for _ in range(4)])
    assert {status for status, _ in answers} == {200}
    assert sum(body["summary"]["awarded"] for _, body in answers) == 50
    assert sum(body["summary"]["duplicates"] for _, body in answers) == 150
    assert all(body["summary"]["errors"] == 0 for _, body in answers)
    assert _ledger(app) == (50, 100)


def test_concurrent_puts_create_one_learner(app, live_server, api_headers):
    url = f"{live_server}/api/v1/users/lms-race"

    def put(i):
        def call():
            response = requests.put(url, json={"username": "racer", "display_name": f"Racer {i}"},
                                    headers=api_headers, timeout=60)
            return response.status_code, response.json()
        return call

    answers = _all_at_once([put(i) for i in range(10)])
    assert sorted(status for status, _ in answers) == [200] * 9 + [201], answers
    with app.app_context():
        assert db.session.scalar(select(func.count(Learner.id)).where(Learner.external_id == "lms-race")) == 1
