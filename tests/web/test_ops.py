"""``/healthz``, ``/readyz`` and ``/metrics`` (issue 12, §15): checks, 503 naming the failing check, token."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from thrive.extensions import db
from thrive.services.ops.health import beat
from thrive.services.points.award import award
from thrive.timeutil import utcnow

TOKEN = "metrics-secret"


@pytest.fixture
def app_config(app_config, database_url):  # database_url: keeps the backend parametrization
    return {**app_config, "THRIVE_METRICS_TOKEN": TOKEN}


def test_healthz_answers_without_sign_in(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_readyz_is_503_naming_the_scheduler_until_it_beats(app, client):
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["failing"] == ["scheduler"]
    assert body["checks"]["database"]["ok"] and body["checks"]["migrations"]["ok"]
    with app.app_context():
        beat()
    response = client.get("/readyz")
    assert response.status_code == 200 and response.get_json()["failing"] == []


def test_readyz_fails_on_an_old_heartbeat(app, client):
    with app.app_context():
        beat(now=utcnow() - timedelta(minutes=10))
    body = client.get("/readyz").get_json()
    assert body["failing"] == ["scheduler"] and "s ago" in body["checks"]["scheduler"]["detail"]


def test_readyz_fails_when_migrations_are_not_at_head(app, client):
    with app.app_context():
        beat()
        db.session.execute(text("DELETE FROM alembic_version WHERE version_num = 'ops_0004'"))
        db.session.commit()
    try:
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.get_json()["failing"] == ["migrations"]
        assert "ops_0004" in response.get_json()["checks"]["migrations"]["detail"]
    finally:  # alembic_version survives between PostgreSQL tests: put the row back
        with app.app_context():
            db.session.execute(text("INSERT INTO alembic_version (version_num) VALUES ('ops_0004')"))
            db.session.commit()


def test_metrics_need_the_token(client):
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_metrics_are_404_without_a_configured_token(app, client):
    app.config["THRIVE_METRICS_TOKEN"] = None
    assert client.get("/metrics").status_code == 404


def _sample(text_body: str, prefix: str) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in text_body.splitlines()
               if line.startswith(prefix))


def test_metrics_count_awards_by_outcome_and_time_requests(app, client, make_learner):
    learner = make_learner("metrics_learner")
    headers = {"Authorization": f"Bearer {TOKEN}"}
    before = client.get("/metrics", headers=headers).get_data(as_text=True)
    with app.app_context():
        award(learner.id, "feedback_given", event_key="m-1")
        award(learner.id, "feedback_given", event_key="m-1")
        with pytest.raises(Exception):  # noqa: B017 - any rejection
            award(learner.id, "no_such_type", event_key="m-2")
    client.get("/healthz")
    after = client.get("/metrics", headers=headers).get_data(as_text=True)
    for outcome in ("awarded", "duplicate"):
        prefix = f'thrive_awards_total{{activity_type="feedback_given",outcome="{outcome}"}}'
        assert _sample(after, prefix) - _sample(before, prefix) == 1
    prefix = 'thrive_awards_total{activity_type="no_such_type",outcome="rejected"}'
    assert _sample(after, prefix) - _sample(before, prefix) == 1
    assert 'thrive_http_request_duration_seconds_count{endpoint="ops.healthz",method="GET",status="200"}' in after
