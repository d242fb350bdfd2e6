"""Data subject requests (issue 10): export matches the database (quests, achievements and notifications
included, worded as the pages word them); erasure leaves no personal data anywhere, keeps aggregates and
``verify`` clean, is idempotent; the CLI, the API and settings do the same."""
from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import pytest
from sqlalchemy import String, Text, func, select, text

from tests.community_support import give
from tests.conftest import csrf_token_from
from thrive.extensions import db
from thrive.models import Learner, LearnerAchievement, LearnerQuest, LedgerEntry, Notification
from thrive.services.accounts import data_requests
from thrive.services.accounts.learners import create_learner
from thrive.services.achievements import catalog as achievements
from thrive.services.achievements.grants import set_visibility
from thrive.services.community import discover, follows
from thrive.services.community.cheers import cheer, visible_learner
from thrive.services.community.feed import feed_page
from thrive.services.errors import NotFound
from thrive.services.points.verify import ledger_total, verify
from thrive.services.quests import catalog as quests
from thrive.services.quests.progress import start_quest
from thrive.timeutil import utcnow
from thrive.web.data_export import build_export
from thrive.web.notifications.text import notification_views

SECRET_VALUES = ("zelda-unique", "Zelda Q. Uniquename", "zelda@secret.example", "lms-zelda-777", "Zeldology",
                 "zelda-desc-marker", "zelda-key-marker")


def _quests_and_badges(learner_id: int) -> None:
    """Two side quests (one completed by the comment award, one in progress); badges: two earned, one far off."""
    for key, activity, target in (("dq-comment", "comment_posted", 1), ("dq-quizzes", "quiz_completed", 5)):
        quest = quests.create_quest({"key": key, "title": key.title(), "activity_type": activity, "target": target})
        quests.set_status(quest.id, "published")
        start_quest(learner_id, quest.id)
    for key, counter, target in (("db-comment", "comments_posted", 1), ("db-quiz", "quizzes_completed", 2),
                                 ("db-far", "quizzes_completed", 50)):
        achievements.create_achievement({"key": key, "name": key.title(), "criteria_text": key, "reward": 25,
                                         "criteria": {"kind": "counter", "counter": counter, "target": target}})


@pytest.fixture
def zelda(app, make_learner):
    """A learner with every kind of personal data, quests and badges, a private peer and a public peer."""
    zelda = make_learner("zelda-unique", display_name="Zelda Q. Uniquename", email="zelda@secret.example",
                         external_id="lms-zelda-777", topics=["Zeldology"], timezone="America/New_York")
    public = make_learner("pat", display_name="Public Pat")
    private = make_learner("prim", display_name="Private Prim", share_profile=False)
    give(app, zelda.id, "quiz_completed", metadata={"topic": "zelda-desc-marker"},
         at=utcnow() - timedelta(days=2))
    with app.app_context():
        from thrive.services.points.award import award

        _quests_and_badges(zelda.id)
        award(zelda.id, "comment_posted", event_key="zelda-key-marker", description="zelda-desc-marker")
        award(zelda.id, "quiz_completed", event_key="zelda-quiz-2")
        badge_ids = {a.key: a.id for a in achievements.all_achievements()}
        set_visibility(zelda.id, badge_ids["db-comment"], "featured")
        set_visibility(zelda.id, badge_ids["db-quiz"], "private")
        entry_pat = give(app, public.id, "quiz_completed").event_id
        entry_zelda = db.session.scalar(select(LedgerEntry.id).where(LedgerEntry.learner_id == zelda.id,
                                                                     LedgerEntry.activity_type == "quiz_completed"))
        follows.follow(zelda.id, public.id)
        follows.follow(private.id, zelda.id)
        follows.follow(public.id, zelda.id)
        cheer(zelda.id, "entry", entry_pat)
        cheer(public.id, "entry", entry_zelda)
        db.session.remove()
    return zelda, public, private


def _zip(content: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name).decode() for name in archive.namelist()}


def test_export_matches_the_database(app, app_ctx, zelda):
    me, public, private = zelda
    export = build_export(me.id)
    files = _zip(export.content)
    for section in [*data_requests.SECTIONS, "notifications"]:
        assert f"{section}.json" in files and f"{section}.csv" in files
        assert f'href="{section}.json"' in files["index.html"]
    (profile,) = json.loads(files["profile.json"])
    assert profile["email"] == "zelda@secret.example" and profile["external_id"] == "lms-zelda-777"
    assert profile["topics"] == "Zeldology"
    ledger = json.loads(files["ledger.json"])
    rows = db.session.scalars(select(LedgerEntry).where(LedgerEntry.learner_id == me.id)).all()
    assert sorted(r["id"] for r in ledger) == sorted(r.id for r in rows)
    assert sum(r["points"] for r in ledger) == sum(r.points for r in rows)
    assert "zelda-desc-marker" in files["ledger.csv"]
    follows_rows = json.loads(files["follows.json"])
    assert {(f["direction"], f["learner"]) for f in follows_rows} == {("you follow", "Public Pat"),
                                                                       ("follows you", "Public Pat"),
                                                                       ("follows you", "A learner")}
    assert "Private Prim" not in "".join(files.values()) and "prim" not in "".join(files.values())
    cheers_rows = json.loads(files["cheers.json"])
    assert {c["direction"] for c in cheers_rows} == {"given", "received"}
    assert json.loads(files["streaks.json"])[0]["total_points"] == me_total(me.id)
    # side quests: every run of the learner, as stored
    runs = db.session.scalars(select(LearnerQuest).where(LearnerQuest.learner_id == me.id)).all()
    exported = {q["quest"]: q for q in json.loads(files["side_quests.json"])}
    assert {q["id"]: (q["progress"], q["target"], q["completed_at"] is not None) for q in exported.values()} == \
        {r.id: (r.progress, r.target, r.completed_at is not None) for r in runs}
    assert exported["dq-comment"]["completed_at"] and exported["dq-comment"]["ledger_entry_id"]
    assert (exported["dq-quizzes"]["progress"], exported["dq-quizzes"]["completed_at"]) == (1, None)
    # achievements: every badge held, with featured / private as stored, and progress towards the others
    held = db.session.scalars(select(LearnerAchievement).where(LearnerAchievement.learner_id == me.id)).all()
    badges = {b["achievement"]: b for b in json.loads(files["achievements.json"])}
    assert {b["id"]: b["visibility"] for b in badges.values()} == {r.id: r.visibility for r in held}
    assert badges["db-comment"]["featured"] and badges["db-quiz"]["private"] and not badges["db-quiz"]["featured"]
    progress = json.loads(files["achievement_progress.json"])
    assert all(p["achievement"] not in badges and 0 <= p["progress"] < p["target"] for p in progress)
    assert {"achievement": "db-far", "name": "Db-Far", "state": "in_progress", "progress": 2, "target": 50} in progress
    assert "dq-quizzes" in files["side_quests.csv"] and "db-comment" in files["achievements.csv"]
    # notifications: one row per stored notification, worded exactly as the notifications page words them
    notes = db.session.scalars(select(Notification).where(Notification.learner_id == me.id)
                               .order_by(Notification.created_at, Notification.id)).all()
    with app.test_request_context():
        page_words = [(v.id, v.title, v.link) for v in notification_views(notes, collapse=False)]
    exported_notes = json.loads(files["notifications.json"])
    assert [(n["id"], n["title"], n["link"]) for n in exported_notes] == page_words
    titles = [n["title"] for n in exported_notes]
    assert "Public Pat started following you" in titles and "A learner started following you" in titles
    index = " ".join(files["index.html"].split())
    assert f"<strong>Notifications</strong> ({len(notes)} rows)" in index


def me_total(learner_id: int) -> int:
    return db.session.scalar(select(func.sum(LedgerEntry.points)).where(LedgerEntry.learner_id == learner_id))


def _text_columns():
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, String | Text) or column.type.__class__.__name__ == "JSON":
                yield table.name, column.name


def _scan(values) -> list[tuple[str, str, str]]:
    """Every (table, column, value) whose text contains one of ``values`` (JSON columns read as text)."""
    found = []
    for table, column in _text_columns():
        for (cell,) in db.session.execute(text(f'SELECT CAST("{column}" AS TEXT) FROM "{table}"')):
            if cell and any(v.lower() in cell.lower() for v in values):
                found.append((table, column, cell))
    return found


def test_erasure_leaves_no_personal_data_and_keeps_aggregates(app, app_ctx, zelda):
    me, public, private = zelda
    assert _scan(SECRET_VALUES)  # the scan sees them before
    total_before, drifts_before = ledger_total(), verify()
    assert drifts_before == []
    entries = db.session.scalar(select(func.count(LedgerEntry.id)).where(LedgerEntry.learner_id == me.id))
    completed_quests = db.session.scalar(select(func.count(LearnerQuest.id)).where(
        LearnerQuest.learner_id == me.id, LearnerQuest.completed_at.is_not(None)))
    badges = db.session.scalar(select(func.count(LearnerAchievement.id)).where(LearnerAchievement.learner_id == me.id))
    result = data_requests.erase_learner(me.id)
    assert not result.already and result.ledger_entries_kept == entries
    db.session.expire_all()
    assert _scan(SECRET_VALUES) == []
    assert ledger_total() == total_before and verify() == []
    # quests in progress are gone; completed quests and badges (paid ledger amounts) stay, private
    runs = db.session.scalars(select(LearnerQuest).where(LearnerQuest.learner_id == me.id)).all()
    assert completed_quests == 1 and len(runs) == 1 and runs[0].completed_at is not None
    held = db.session.scalars(select(LearnerAchievement).where(LearnerAchievement.learner_id == me.id)).all()
    assert badges >= 2 and len(held) == badges and {r.visibility for r in held} == {"private"}
    assert db.session.scalar(select(func.count(Notification.id)).where(Notification.learner_id == me.id)) == 0
    # gone from every page
    assert all(i.actor.id != me.id for i in feed_page(public.id).items)
    assert all(c.id != me.id for c in discover.discover(public.id).people)
    with pytest.raises(NotFound):
        visible_learner(db.session.get(Learner, me.id).username, public.id)
    assert all(p.id != me.id for p in follows.followers(public.id).people)
    # idempotent
    again = data_requests.erase_learner(me.id)
    assert again.already and ledger_total() == total_before and _scan(SECRET_VALUES) == []
    # the external id and username can be registered again, as a new learner
    fresh = create_learner("zelda-unique", "Zelda Again", external_id="lms-zelda-777")
    assert fresh.id != me.id and fresh.state.total_points == 0


def test_cli_export_and_delete(app, runner, zelda, tmp_path):
    me, _public, _private = zelda
    target = tmp_path / "out.zip"
    result = runner.invoke(args=["thrive", "export-learner", "zelda-unique", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert "profile.json" in _zip(target.read_bytes())
    assert runner.invoke(args=["thrive", "export-learner", "nobody"]).exit_code != 0
    result = runner.invoke(args=["thrive", "delete-learner", "ext:lms-zelda-777", "--yes"])
    assert result.exit_code == 0 and "Erased learner" in result.output
    assert runner.invoke(args=["thrive", "delete-learner", "ext:lms-zelda-777", "--yes"]).exit_code != 0


def test_api_export_and_delete(app, client, api_headers, zelda):
    response = client.get("/api/v1/users/lms-zelda-777/export", headers=api_headers)
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert "ledger.csv" in _zip(response.data)
    assert client.delete("/api/v1/users/lms-zelda-777", headers=api_headers).status_code == 204
    assert client.delete("/api/v1/users/lms-zelda-777", headers=api_headers).status_code == 404
    again = client.put("/api/v1/users/lms-zelda-777", json={"username": "zelda-new"}, headers=api_headers)
    assert again.status_code == 201


def test_settings_download_and_delete_with_password(app, client, auth, zelda):
    me, _public, _private = zelda
    auth.login("zelda-unique")
    download = client.get("/settings/export")
    assert download.status_code == 200 and "attachment" in download.headers["Content-Disposition"]
    assert "index.html" in _zip(download.data)
    token = csrf_token_from(client.get("/settings").get_data(as_text=True))
    wrong = client.post("/settings/delete", data={"csrf_token": token, "password": "nope", "confirm": "delete"})
    assert wrong.status_code == 303
    with app.app_context():
        assert db.session.get(Learner, me.id).erased_at is None
    right = client.post("/settings/delete", data={"csrf_token": token, "password": "password123",
                                                  "confirm": "delete"})
    assert right.status_code == 302 and "/login" in right.headers["Location"]
    assert client.get("/settings").status_code == 302  # signed out
    with app.app_context():
        assert db.session.get(Learner, me.id).erased_at is not None
    assert auth.login("zelda-unique").status_code == 400  # cannot sign in any more
