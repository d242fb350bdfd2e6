"""Every admin form: CSRF required (driven by ``app.url_map``), validation errors, and one audit entry per action."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from tests.web.admin.conftest import admin_token
from thrive.extensions import db
from thrive.models import ApiKey, AuditEntry, JobRun


def post_routes(app) -> list[str]:
    out = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/admin") and "POST" in (rule.methods or ()):
            out.append(re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: "assign_circles" if m.group(1) == "name" else "1",
                              rule.rule))
    return out


def audits(app) -> list[AuditEntry]:
    with app.app_context():
        rows = list(db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
        db.session.expunge_all()
        db.session.remove()
        return rows


def test_every_admin_form_needs_a_csrf_token(app, as_admin, make_learner):
    make_learner("ada")
    routes = post_routes(app)
    assert len(routes) >= 8
    for url in routes:
        response = as_admin.post(url, data={"points": "5", "reason": "x", "name": "k", "week": "2026-W10"})
        assert response.status_code == 400, url
        assert "Your form expired" in response.get_data(as_text=True)
        response = as_admin.post(url, headers={"HX-Request": "true"}, data={})
        assert response.status_code == 400, url
    assert audits(app) == []


def test_htmx_requests_carry_the_token_in_a_header(app, as_admin):
    token = admin_token(as_admin)
    response = as_admin.post("/admin/api-keys", data={"name": "LMS"}, headers={"X-CSRFToken": token,
                                                                               "HX-Request": "true"})
    assert response.status_code == 201


def test_api_keys_create_shows_the_key_once_and_revoke(app, as_admin):
    token = admin_token(as_admin)
    response = as_admin.post("/admin/api-keys", data={"csrf_token": token, "name": "LMS"})
    html = response.get_data(as_text=True)
    assert response.status_code == 201
    plaintext = re.search(r'<code id="new-key">(thr_[^<]+)</code>', html).group(1)
    assert plaintext not in as_admin.get("/admin/api-keys").get_data(as_text=True)
    with app.app_context():
        key = db.session.scalar(select(ApiKey))
        assert key.key_hash != plaintext and plaintext.split("_")[1] == key.prefix
        key_id = key.id
        db.session.remove()
    assert as_admin.get("/api/v1/users/nobody", headers={"Authorization": f"Bearer {plaintext}"}).status_code == 404
    assert as_admin.post(f"/admin/api-keys/{key_id}/revoke", data={"csrf_token": token}).status_code == 303
    assert as_admin.get("/api/v1/users/nobody", headers={"Authorization": f"Bearer {plaintext}"}).status_code == 401
    assert "revoked" in as_admin.get("/admin/api-keys").get_data(as_text=True)
    entries = audits(app)
    assert [e.action for e in entries] == ["api_key.create", "api_key.revoke"]
    assert plaintext not in str([e.after for e in entries])
    assert as_admin.post("/admin/api-keys/999/revoke", data={"csrf_token": token}).status_code == 404


def test_api_key_form_validation(app, as_admin):
    token = admin_token(as_admin)
    for name, message in (("", "Give the key a name."), ("x" * 101, "Field cannot be longer than 100 characters.")):
        response = as_admin.post("/admin/api-keys", data={"csrf_token": token, "name": name})
        assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert audits(app) == []


def test_circle_rerun_validation_and_idempotence(app, as_admin):
    token = admin_token(as_admin)
    for week, message in (("", "Enter a week."), ("2026-12", "Use the form 2026-W12."), ("2026-W60", "week")):
        response = as_admin.post("/admin/circles/rerun", data={"csrf_token": token, "week": week})
        assert response.status_code == 400, week
        assert message in response.get_data(as_text=True), week
    assert audits(app) == []
    for _ in range(2):
        response = as_admin.post("/admin/circles/rerun", data={"csrf_token": token, "week": "2026-W10"})
        assert response.status_code == 200
        assert "Assignment of 2026-W10: succeeded" in response.get_data(as_text=True)
    assert [e.action for e in audits(app)] == ["circles.rerun", "circles.rerun"]
    with app.app_context():
        assert db.session.scalar(select(func.count(JobRun.id)).where(JobRun.job == "assign_circles")) == 1
        db.session.remove()


def test_run_job_now_through_the_job_service(app, as_admin):
    token = admin_token(as_admin)
    response = as_admin.post("/admin/jobs/create_goals/run",
                             data={"csrf_token": token, "create_goals-period": "2026-W10"})
    assert response.status_code == 200
    assert "create_goals [2026-W10]: succeeded" in response.get_data(as_text=True)
    response = as_admin.post("/admin/jobs/create_goals/run", data={"csrf_token": token, "create_goals-period": "soon"})
    assert response.status_code == 400 and "week" in response.get_data(as_text=True)
    assert as_admin.post("/admin/jobs/nope/run", data={"csrf_token": token}).status_code == 404
    with app.app_context():
        run = db.session.scalar(select(JobRun).where(JobRun.job == "create_goals"))
        assert (run.period, run.status) == ("2026-W10", "succeeded")
        db.session.remove()
    assert [(e.action, e.target_id, e.after["status"]) for e in audits(app)] == [
        ("job.run", "create_goals", "succeeded")]
    html = as_admin.get("/admin/jobs").get_data(as_text=True)
    assert "2026-W10" in html


def test_jobs_page_warns_when_the_scheduler_missed_its_window(app, as_admin):
    html = as_admin.get("/admin/jobs").get_data(as_text=True)
    # Nothing has ever run: every job's due period is missing.
    assert html.count("The scheduler missed its window") == 5  # with the admin_dashboard snapshot job
    token = admin_token(as_admin)
    as_admin.post("/admin/jobs/assign_circles/run", data={"csrf_token": token})
    html = as_admin.get("/admin/jobs").get_data(as_text=True)
    assert "last completed period: none yet" in html


def test_audit_page_filters_pages_and_downloads(app, as_admin, make_learner):
    token = admin_token(as_admin)
    for i in range(3):
        as_admin.post("/admin/api-keys", data={"csrf_token": token, "name": f"k{i}"})
    html = as_admin.get("/admin/audit", query_string={"action": "api_key"}).get_data(as_text=True)
    assert "3 entries" in html
    assert "0 entries" in as_admin.get("/admin/audit", query_string={"actor": "someone"}).get_data(as_text=True)
    assert "3 entries" in as_admin.get("/admin/audit", query_string={"actor": "BOSS"}).get_data(as_text=True)
    response = as_admin.get("/admin/audit", query_string={"since": "yesterday"})
    assert response.status_code == 400 and "Use a date like" in response.get_data(as_text=True)
    response = as_admin.get("/admin/audit", query_string={"since": "2026-03-09", "until": "2026-03-08"})
    assert response.status_code == 400 and "before the start date" in response.get_data(as_text=True)
    assert "0 entries" in as_admin.get("/admin/audit", query_string={"until": "2000-01-01"}).get_data(as_text=True)
    csv_response = as_admin.get("/admin/audit.csv", query_string={"action": "api_key.create"})
    lines = csv_response.get_data(as_text=True).strip().splitlines()
    assert csv_response.mimetype == "text/csv" and lines[0].startswith("id,at,actor_id,actor_username,action")
    assert len(lines) == 4 and all(",boss,api_key.create," in line for line in lines[1:])
    assert as_admin.get("/admin/audit.csv", query_string={"since": "x"}).status_code == 400
