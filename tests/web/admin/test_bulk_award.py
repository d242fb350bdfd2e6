"""Bulk awards from a CSV file (§11): a dry run writes nothing; the real run awards exactly once."""
from __future__ import annotations

import io

from sqlalchemy import func, select

from tests.web.admin.conftest import admin_token
from thrive.extensions import db
from thrive.models import AuditEntry, LedgerEntry, Notification

CSV = """username,activity_type,points,reason
ada,admin_adjustment,40,Hackathon volunteer
ada,admin_adjustment,40,Hackathon volunteer
ext-grace,event_attended,,Attended the meetup
nobody,event_attended,,Attended the meetup
ada,event_attended,15,Fixed amounts refuse points
ada,teleported,,Unknown type
ada,admin_adjustment,10,
"""


def counts(app) -> tuple[int, int, int]:
    with app.app_context():
        result = (db.session.scalar(select(func.count(LedgerEntry.id))),
                  db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.points), 0))),
                  db.session.scalar(select(func.count(AuditEntry.id))))
        db.session.remove()
        return result


def upload(client, token, text: str, name: str = "awards.csv"):
    data = {"csrf_token": token, "file": (io.BytesIO(text.encode()), name)}
    return client.post("/admin/learners/bulk-award", data=data, content_type="multipart/form-data")


def run_for_real(client, token, text: str):
    return client.post("/admin/learners/bulk-award", data={"csrf_token": token, "mode": "run", "content": text,
                                                           "filename": "awards.csv"})


def setup_learners(make_learner):
    make_learner("ada")
    # Learners matched by external id when the username column holds it.
    make_learner("grace", external_id="ext-grace")


def test_dry_run_writes_nothing_and_reports_each_row(app, as_admin, make_learner):
    setup_learners(make_learner)
    token = admin_token(as_admin)
    before = counts(app)
    response = upload(as_admin, token, CSV.replace("username,", "user,"))
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html[:2000]
    assert "Dry run — nothing was written" in html
    assert counts(app) == before
    assert html.count("would award") == 3
    for message in ("No account with that username or external id.", "This activity type has a fixed amount",
                    "Unknown activity type.", "A reason is required."):
        assert message in html
    assert "Award 3 rows for real" in html


def test_real_run_awards_exactly_once_and_a_rerun_awards_nothing(app, as_admin, make_learner):
    setup_learners(make_learner)
    token = admin_token(as_admin)
    text = CSV.replace("username,", "user,")
    response = run_for_real(as_admin, token, text)
    assert response.status_code == 200
    assert "Done" in response.get_data(as_text=True)
    entries, points, audits = counts(app)
    assert (entries, points, audits) == (3, 40 + 40 + 10, 1)
    # The same file again (dry run, then real run): everything is already awarded.
    html = upload(as_admin, token, text).get_data(as_text=True)
    assert html.count("already awarded") == 3 and "rows for real" not in html
    run_for_real(as_admin, token, text)
    assert counts(app)[:2] == (3, 90)
    assert counts(app)[2] == 2  # each real run is one audited staff action
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()[-1]
        assert entry.action == "learner.bulk_award"
        assert (entry.after["ok"], entry.after["duplicate"], entry.after["error"]) == (0, 3, 4)
        assert db.session.scalar(select(func.count(Notification.id)).where(Notification.type == "points_adjusted")) == 0
        db.session.remove()


def test_a_corrected_file_awards_only_the_new_rows(app, as_admin, make_learner):
    setup_learners(make_learner)
    token = admin_token(as_admin)
    run_for_real(as_admin, token, "username,activity_type,points,reason\nada,admin_adjustment,25,Quiz night\n")
    run_for_real(as_admin, token, "user,activity_type,points,reason\next-grace,admin_adjustment,25,Quiz night\n"
                 "ada,admin_adjustment,25,Quiz night\n")
    assert counts(app)[:2] == (2, 50)


def test_unusable_files_are_refused_with_a_message(app, as_admin, make_learner):
    token = admin_token(as_admin)
    response = as_admin.post("/admin/learners/bulk-award", data={"csrf_token": token},
                             content_type="multipart/form-data")
    assert response.status_code == 400 and "Choose a CSV file." in response.get_data(as_text=True)
    response = upload(as_admin, token, "a,b\n1,2\n")
    assert response.status_code == 400 and "the header must have" in response.get_data(as_text=True)
    response = upload(as_admin, token, "username,activity_type,points,reason\n", name="awards.xlsx")
    assert response.status_code == 400 and "Upload a .csv file." in response.get_data(as_text=True)
    response = as_admin.post("/admin/learners/bulk-award",
                             data={"csrf_token": token, "file": (io.BytesIO(b"\xff\xfe\x00bad"), "x.csv")},
                             content_type="multipart/form-data")
    assert response.status_code == 400 and "not UTF-8" in response.get_data(as_text=True)
    assert counts(app) == (0, 0, 0)
