"""Data subject requests (issue 10): export matches the database; erasure leaves no personal data anywhere,
keeps aggregates and ``verify`` clean, is idempotent; the CLI, the API and settings do the same."""
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
from thrive.models import Learner, LedgerEntry, Notification
from thrive.services.accounts import data_requests
from thrive.services.accounts.learners import create_learner
from thrive.services.community import discover, follows
from thrive.services.community.cheers import cheer, visible_learner
from thrive.services.community.feed import feed_page
from thrive.services.errors import NotFound
from thrive.services.points.verify import ledger_total, verify
from thrive.timeutil import utcnow

SECRET_VALUES = ("zelda-unique", "Zelda Q. Uniquename", "zelda@secret.example", "lms-zelda-777", "Zeldology",
                 "zelda-desc-marker", "zelda-key-marker")


@pytest.fixture
def zelda(app, make_learner):
    """A learner with every kind of personal data, a private peer and a public peer."""
    zelda = make_learner("zelda-unique", display_name="Zelda Q. Uniquename", email="zelda@secret.example",
                         external_id="lms-zelda-777", topics=["Zeldology"], timezone="America/New_York")
    public = make_learner("pat", display_name="Public Pat")
    private = make_learner("prim", display_name="Private Prim", share_profile=False)
    give(app, zelda.id, "quiz_completed", metadata={"topic": "zelda-desc-marker"},
         at=utcnow() - timedelta(days=2))
    with app.app_context():
        from thrive.services.points.award import award

        award(zelda.id, "comment_posted", event_key="zelda-key-marker", description="zelda-desc-marker")
        entry_pat = give(app, public.id, "quiz_completed").event_id
        entry_zelda = db.session.scalar(select(LedgerEntry.id).where(LedgerEntry.learner_id == zelda.id,
                                                                     LedgerEntry.activity_type == "quiz_completed"))
        follows.follow(zelda.id, public.id)
        follows.follow(private.id, zelda.id)
        cheer(zelda.id, "entry", entry_pat)
        cheer(public.id, "entry", entry_zelda)
        db.session.remove()
    return zelda, public, private


def _zip(content: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name).decode() for name in archive.namelist()}


def test_export_matches_the_database(app_ctx, zelda):
    me, public, private = zelda
    export = data_requests.export_learner(me.id)
    files = _zip(export.content)
    for section in data_requests.SECTIONS:
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
                                                                       ("follows you", "A learner")}
    assert "Private Prim" not in "".join(files.values())
    cheers_rows = json.loads(files["cheers.json"])
    assert {c["direction"] for c in cheers_rows} == {"given", "received"}
    assert json.loads(files["streaks.json"])[0]["total_points"] == me_total(me.id)


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
    result = data_requests.erase_learner(me.id)
    assert not result.already and result.ledger_entries_kept == entries == 3  # quiz, comment, cheer given
    db.session.expire_all()
    assert _scan(SECRET_VALUES) == []
    assert ledger_total() == total_before and verify() == []
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
