"""Admin → a learner's data requests (§11 + issue 10): export and erase, admins only, audited once each."""
from __future__ import annotations

import io
import json
import zipfile

import pytest
from sqlalchemy import func, select

from tests.community_support import give
from tests.conftest import csrf_token_from
from tests.web.admin.conftest import admin_token
from thrive.extensions import db
from thrive.models import AuditEntry, Learner, LedgerEntry
from thrive.services.points.verify import verify

SECRETS = ("ada-private", "Ada Lovelace-Secret", "ada@secret.example", "lms-ada-42")


@pytest.fixture
def ada(app, make_learner):
    ada = make_learner("ada-private", display_name="Ada Lovelace-Secret", email="ada@secret.example",
                       external_id="lms-ada-42", topics=["Engines"])
    give(app, ada.id, "quiz_completed")
    give(app, ada.id, "comment_posted")
    return ada


def audits(app, action: str) -> list[AuditEntry]:
    with app.app_context():
        rows = list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))
        db.session.expunge_all()
        db.session.remove()
        return rows


def _erase(client, learner_id: int, typed: str, token: str | None = None):
    token = token or csrf_token_from(client.get(f"/admin/learners/{learner_id}").get_data(as_text=True))
    return client.post(f"/admin/learners/{learner_id}/erase", data={"csrf_token": token, "confirm_username": typed})


def test_admin_page_offers_export_and_erase(as_admin, ada):
    html = as_admin.get(f"/admin/learners/{ada.id}").get_data(as_text=True)
    assert f'href="/admin/learners/{ada.id}/export"' in html and "Download data (export)" in html
    assert f'action="/admin/learners/{ada.id}/erase"' in html and 'name="confirm_username"' in html


def test_admin_exports_a_valid_zip_and_it_is_audited_once(app, as_admin, admin_user, ada):
    response = as_admin.get(f"/admin/learners/{ada.id}/export")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert "attachment" in response.headers["Content-Disposition"] and response.headers["Cache-Control"] == "no-store"
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        assert archive.testzip() is None
        names = set(archive.namelist())
        assert {"index.html", "profile.json", "ledger.csv", "side_quests.json", "achievements.json",
                "notifications.json"} <= names
        (profile,) = json.loads(archive.read("profile.json"))
        ledger = json.loads(archive.read("ledger.json"))
    assert profile["username"] == "ada-private" and profile["external_id"] == "lms-ada-42"
    with app.app_context():
        points = db.session.scalar(select(func.sum(LedgerEntry.points)).where(LedgerEntry.learner_id == ada.id))
    assert sum(e["points"] for e in ledger) == points
    (entry,) = audits(app, "learner.export")
    assert entry.actor_id == admin_user.id and entry.target_id == str(ada.id)
    assert entry.after["rows"]["ledger"] == len(ledger)


def test_erasure_needs_the_typed_username(app, as_admin, ada):
    wrong = _erase(as_admin, ada.id, "someone-else")
    assert wrong.status_code == 400
    assert "Type the learner&#39;s username exactly to confirm." in wrong.get_data(as_text=True)
    empty = _erase(as_admin, ada.id, "")
    assert empty.status_code == 400 and "Type the username to confirm." in empty.get_data(as_text=True)
    no_csrf = as_admin.post(f"/admin/learners/{ada.id}/erase", data={"confirm_username": "ada-private"})
    assert no_csrf.status_code == 400
    with app.app_context():
        assert db.session.get(Learner, ada.id).erased_at is None
    assert audits(app, "learner.erase") == []


def test_admin_erases_and_the_one_audit_entry_holds_no_personal_data(app, as_admin, admin_user, ada):
    response = _erase(as_admin, ada.id, " ADA-private ")  # case and surrounding spaces do not matter
    assert response.status_code == 303 and response.headers["Location"] == f"/admin/learners/{ada.id}"
    with app.app_context():
        row = db.session.get(Learner, ada.id)
        assert row.erased_at is not None and row.email is None and row.external_id is None
        assert verify() == []
    (entry,) = audits(app, "learner.erase")
    assert entry.actor_id == admin_user.id and entry.target_id == str(ada.id)
    assert entry.after == {"erased": True, "ledger_entries_kept": 2}
    stored = json.dumps([entry.before, entry.after, entry.target_id, entry.target_type])
    assert not any(s.lower() in stored.lower() for s in SECRETS)
    page = as_admin.get(f"/admin/learners/{ada.id}").get_data(as_text=True)
    assert "This account was erased" in page and "Download data (export)" not in page
    # erasing again changes nothing and audits nothing
    again = as_admin.post(f"/admin/learners/{ada.id}/erase",
                          data={"csrf_token": admin_token(as_admin), "confirm_username": f"erased-{ada.id}"})
    assert again.status_code == 303 and len(audits(app, "learner.erase")) == 1
    assert as_admin.get(f"/admin/learners/{ada.id}/export").status_code == 303  # nothing left to export


def test_admins_cannot_erase_themselves_here(app, as_admin, admin_user):
    response = _erase(as_admin, admin_user.id, "boss")
    assert response.status_code == 400 and "use your settings" in response.get_data(as_text=True)
    assert audits(app, "learner.erase") == []


def test_moderators_get_403(app, as_moderator, ada):
    token = admin_token(as_moderator, f"/admin/learners/{ada.id}")
    page = as_moderator.get(f"/admin/learners/{ada.id}").get_data(as_text=True)
    assert "Download data (export)" not in page and "confirm_username" not in page
    assert as_moderator.get(f"/admin/learners/{ada.id}/export").status_code == 403
    assert _erase(as_moderator, ada.id, "ada-private", token).status_code == 403
    with app.app_context():
        assert db.session.get(Learner, ada.id).erased_at is None
    assert audits(app, "learner.export") == [] and audits(app, "learner.erase") == []


def test_learners_get_403(app, client, auth, make_learner, ada):
    make_learner("plain")
    auth.login("plain")
    token = csrf_token_from(client.get("/settings").get_data(as_text=True))
    assert client.get(f"/admin/learners/{ada.id}/export").status_code == 403
    assert _erase(client, ada.id, "ada-private", token).status_code == 403
    with app.app_context():
        assert db.session.get(Learner, ada.id).erased_at is None
    assert audits(app, "learner.export") == [] and audits(app, "learner.erase") == []
