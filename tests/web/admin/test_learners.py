"""Admin → learners (§11): search, learner page, adjustments, status, staff roles — each action audited once."""
from __future__ import annotations

from sqlalchemy import func, select

from tests.community_support import give
from tests.web.admin.conftest import admin_token
from thrive.extensions import db
from thrive.models import AuditEntry, Learner, LedgerEntry, Notification


def audit_count(app, action: str | None = None) -> int:
    with app.app_context():
        q = select(func.count(AuditEntry.id))
        if action:
            q = q.where(AuditEntry.action == action)
        n = db.session.scalar(q)
        db.session.remove()
        return n


def ledger(app, learner_id: int) -> list[LedgerEntry]:
    with app.app_context():
        rows = list(db.session.scalars(select(LedgerEntry).where(LedgerEntry.learner_id == learner_id)
                                       .order_by(LedgerEntry.id)))
        db.session.expunge_all()
        db.session.remove()
        return rows


def test_search_matches_username_display_name_email_and_external_id(app, as_admin, make_learner):
    make_learner("ada", display_name="Ada Lovelace", email="ada@example.org", external_id="ext-77")
    make_learner("grace", display_name="Grace Hopper")
    for q in ("ada", "lovelace", "ADA@EXAMPLE", "ext-77"):
        html = as_admin.get("/admin/learners", query_string={"q": q}).get_data(as_text=True)
        assert ">ada</a>" in html and ">grace</a>" not in html, q
    html = as_admin.get("/admin/learners", query_string={"q": "%"}).get_data(as_text=True)
    assert ">ada</a>" not in html  # LIKE wildcards are literal


def test_learner_page_shows_status_privacy_and_an_explained_ledger(app, as_admin, make_learner):
    ada = make_learner("ada", share_profile=False)
    for _ in range(2):
        give(app, ada.id, "daily_login")  # the second one in the same day is capped (1/day)
    html = as_admin.get(f"/admin/learners/{ada.id}").get_data(as_text=True)
    assert "shares profile no" in html
    assert "capped: 1 per day for daily_login reached" in html
    assert "daily_login" in html


def test_adjustment_needs_a_reason(app, as_admin, make_learner):
    ada = make_learner("ada")
    token = admin_token(as_admin)
    response = as_admin.post(f"/admin/learners/{ada.id}/adjust", data={"csrf_token": token, "points": "50",
                                                                         "reason": "  "})
    assert response.status_code == 400
    assert "A reason is required." in response.get_data(as_text=True)
    assert ledger(app, ada.id) == []
    assert audit_count(app) == 0


def test_adjustment_form_validation(app, as_admin, make_learner):
    ada = make_learner("ada")
    token = admin_token(as_admin)
    for data, message in (({"points": "abc", "reason": "x"}, "Not a valid integer value"),
                          ({"points": "", "reason": "x"}, "Enter a number of points."),
                          ({"points": "0", "reason": "x"}, "An adjustment of 0 points changes nothing."),
                          ({"points": "5000000", "reason": "x"}, "Between -1,000,000 and 1,000,000."),
                          ({"points": "500000", "reason": "x"}, "must be between")):
        response = as_admin.post(f"/admin/learners/{ada.id}/adjust", data={"csrf_token": token, **data})
        assert response.status_code == 400, data
        assert message in response.get_data(as_text=True), data
    assert ledger(app, ada.id) == []


def test_adjustment_goes_through_award_shows_in_the_ledger_notifies_and_is_audited_once(app, as_admin, make_learner,
                                                                                      admin_user):
    ada = make_learner("ada")
    token = admin_token(as_admin)
    page = as_admin.get(f"/admin/learners/{ada.id}").get_data(as_text=True)
    key = page.split('name="event_key" value="')[1].split('"')[0]
    data = {"csrf_token": token, "points": "120", "reason": "Workshop helper", "message": "Thanks for helping!",
            "event_key": key}
    response = as_admin.post(f"/admin/learners/{ada.id}/adjust", data=data)
    assert response.status_code == 303
    entries = ledger(app, ada.id)
    assert [(e.activity_type, e.points, e.description) for e in entries] == [
        ("admin_adjustment", 120, "Workshop helper")]
    html = as_admin.get(f"/admin/learners/{ada.id}").get_data(as_text=True)
    assert "Workshop helper" in html and "adjusted by boss" in html
    with app.app_context():
        assert db.session.get(Learner, ada.id).state.total_points == 120
        notes = list(db.session.scalars(select(Notification).where(Notification.learner_id == ada.id,
                                                                   Notification.type == "points_adjusted")))
        assert [n.title for n in notes] == ["Thanks for helping!"]
        entry = db.session.scalar(select(AuditEntry))
        assert (entry.actor_id, entry.actor_username, entry.action, entry.target_type, entry.target_id) == (
            admin_user.id, "boss", "learner.adjust_points", "learner", str(ada.id))
        assert entry.after["points"] == 120 and entry.after["reason"] == "Workshop helper"
        db.session.remove()
    assert audit_count(app) == 1
    # Resubmitting the same form (same event key) changes nothing and audits nothing.
    response = as_admin.post(f"/admin/learners/{ada.id}/adjust", data=data, follow_redirects=True)
    assert "already applied" in response.get_data(as_text=True)
    assert len(ledger(app, ada.id)) == 1
    assert audit_count(app) == 1


def test_negative_adjustment_never_demotes(app, as_admin, make_learner):
    ada = make_learner("ada")
    give(app, ada.id, "admin_adjustment", points=300, description="setup")
    token = admin_token(as_admin)
    as_admin.post(f"/admin/learners/{ada.id}/adjust", data={"csrf_token": token, "points": "-200",
                                                            "reason": "Duplicate credit"})
    with app.app_context():
        state = db.session.get(Learner, ada.id).state
        assert state.total_points == 100 and state.tier_key == "spark"
        db.session.remove()


def test_staff_who_are_not_learners_cannot_be_adjusted(app, as_admin, make_learner):
    mod = make_learner("mod", staff_role="moderator")
    token = admin_token(as_admin)
    response = as_admin.post(f"/admin/learners/{mod.id}/adjust", data={"csrf_token": token, "points": "5",
                                                                       "reason": "x"})
    assert response.status_code == 400
    assert "staff accounts that are not learners" in response.get_data(as_text=True)


def test_deactivate_and_reactivate(app, as_admin, client, auth, make_learner, admin_user):
    ada = make_learner("ada")
    token = admin_token(as_admin)
    assert as_admin.post(f"/admin/learners/{ada.id}/deactivate", data={"csrf_token": token}).status_code == 303
    with app.app_context():
        assert db.session.get(Learner, ada.id).is_active_account is False
        db.session.remove()
    assert as_admin.post(f"/admin/learners/{ada.id}/reactivate", data={"csrf_token": token}).status_code == 303
    with app.app_context():
        assert db.session.get(Learner, ada.id).is_active_account is True
        db.session.remove()
    assert audit_count(app, "learner.deactivate") == 1 and audit_count(app, "learner.reactivate") == 1
    # Admins cannot lock themselves out.
    as_admin.post(f"/admin/learners/{admin_user.id}/deactivate", data={"csrf_token": token})
    with app.app_context():
        assert db.session.get(Learner, admin_user.id).is_active_account is True
        db.session.remove()
    assert audit_count(app) == 2


def test_grant_and_revoke_staff_roles(app, as_admin, make_learner, admin_user):
    ada = make_learner("ada")
    token = admin_token(as_admin)
    response = as_admin.post(f"/admin/learners/{ada.id}/staff-role", data={"csrf_token": token, "role": "moderator"})
    assert response.status_code == 303
    with app.app_context():
        row = db.session.get(Learner, ada.id)
        assert (row.staff_role, row.is_learner) == ("moderator", False)
        db.session.remove()
    as_admin.post(f"/admin/learners/{ada.id}/staff-role", data={"csrf_token": token, "role": "", "is_learner": "y"})
    with app.app_context():
        row = db.session.get(Learner, ada.id)
        assert (row.staff_role, row.is_learner) == (None, True)
        entries = list(db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
        assert [(e.before["staff_role"], e.after["staff_role"]) for e in entries] == [(None, "moderator"),
                                                                                     ("moderator", None)]
        db.session.remove()
    # Validation: an unknown role; removing one's own admin role.
    response = as_admin.post(f"/admin/learners/{ada.id}/staff-role", data={"csrf_token": token, "role": "owner"})
    assert response.status_code == 400 and "Not a valid choice" in response.get_data(as_text=True)
    response = as_admin.post(f"/admin/learners/{admin_user.id}/staff-role", data={"csrf_token": token, "role": ""})
    assert response.status_code == 400 and "cannot remove your own admin role" in response.get_data(as_text=True)
    assert audit_count(app) == 2


def test_moderators_read_learner_pages_without_forms(app, as_moderator, make_learner):
    ada = make_learner("ada")
    html = as_moderator.get(f"/admin/learners/{ada.id}").get_data(as_text=True)
    assert "Ledger" in html and "Adjust points" not in html and "Deactivate" not in html
    nav = html.split('aria-label="Admin"')[1].split("</nav>")[0]
    assert "Learners" in nav and "Dashboard" not in nav and "API keys" not in nav


def test_unknown_learner_is_404(as_admin):
    assert as_admin.get("/admin/learners/999999").status_code == 404


def test_search_serves_the_page_or_the_results_fragment(app, as_admin, make_learner):
    make_learner("ada")
    full = as_admin.get("/admin/learners?q=ada")
    fragment = as_admin.get("/admin/learners?q=ada", headers={"HX-Request": "true"})
    assert "<html" in full.get_data(as_text=True)
    body = fragment.get_data(as_text=True)
    assert "<html" not in body and body.lstrip().startswith('<div id="learner-results"') and ">ada</a>" in body
    assert "HX-Request" in fragment.headers["Vary"]
