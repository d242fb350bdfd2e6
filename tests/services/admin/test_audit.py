"""The audit log (§11): one entry per staff action, written in the action's transaction; filters; CSV."""
from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from thrive.db import write_transaction
from thrive.extensions import db
from thrive.models import AuditEntry, Learner
from thrive.services.admin import audit
from thrive.services.admin.api_keys import create_key


def test_record_snapshots_actor_and_plain_json(app, app_ctx, make_learner):
    boss = db.session.get(Learner, make_learner("boss", staff_role="admin").id)
    with write_transaction():
        audit.record(boss, "thing.edit", "thing", 7, {"when": date(2026, 3, 8)},
                     {"at": datetime(2026, 3, 8, 12, 0), "tags": {"b", "a"}})
    entry = db.session.scalar(select(AuditEntry))
    assert (entry.actor_id, entry.actor_username, entry.action, entry.target_type, entry.target_id) == (
        boss.id, "boss", "thing.edit", "thing", "7")
    assert entry.before == {"when": "2026-03-08"}
    assert entry.after == {"at": "2026-03-08T12:00:00+00:00", "tags": ["a", "b"]}


def test_an_action_that_fails_leaves_no_audit_entry(app, app_ctx, make_learner):
    boss = db.session.get(Learner, make_learner("boss", staff_role="admin").id)
    with pytest.raises(Exception, match="name"):
        create_key(boss, "   ")
    assert db.session.scalar(select(func.count(AuditEntry.id))) == 0
    with pytest.raises(RuntimeError), write_transaction():
        audit.record(boss, "thing.edit")
        raise RuntimeError("the action failed after recording")
    assert db.session.scalar(select(func.count(AuditEntry.id))) == 0


def test_filters_paging_and_csv(app, app_ctx, make_learner):
    boss_id, mod_id = make_learner("boss", staff_role="admin").id, make_learner("mod", staff_role="moderator").id
    boss, mod = db.session.get(Learner, boss_id), db.session.get(Learner, mod_id)
    with write_transaction():
        for i in range(55):
            audit.record(boss if i % 2 else mod, "rule.edit" if i < 50 else "moderation.hide", "x", i,
                         None, {"i": i})
    page = audit.page(audit.AuditFilter(), 1)
    assert page.total == 55 and len(page.items) == 50 and page.pages == 2
    assert page.items[0].after == {"i": 54}  # newest first
    assert audit.page(audit.AuditFilter(), 2).items[-1].after == {"i": 0}
    assert audit.page(audit.AuditFilter(actor="MOD"), 1).total == 28
    assert audit.page(audit.AuditFilter(action="moderation"), 1).total == 5
    assert audit.page(audit.AuditFilter(action="rule_"), 1).total == 0  # "_" is not a wildcard
    today = datetime.now().date()
    assert audit.page(audit.AuditFilter(since=today, until=today), 1).total in (0, 55)
    rows = list(csv.DictReader(io.StringIO(audit.export_csv(audit.AuditFilter(actor="boss")))))
    assert len(rows) == 27 and rows[0]["actor_username"] == "boss" and json.loads(rows[0]["after"]) == {"i": 1}
    assert audit.actions() == ["moderation.hide", "rule.edit"]
