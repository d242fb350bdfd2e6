"""``flask thrive import FILE``: JSONL/CSV events through award_many, dry run, rejections, idempotency (§12)."""
from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from thrive.extensions import db
from thrive.models import LearnerState, LedgerEntry, PointRule
from thrive.services.points import registry

UTC = UTC


def write_jsonl(path, rows) -> str:
    """Write ``rows`` (dicts, or raw strings written as they are) one per line."""
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write((row if isinstance(row, str) else json.dumps(row)) + "\n")
    return str(path)


def write_csv(path, header, rows) -> str:
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return str(path)


def ledger(app):
    with app.app_context():
        rows = db.session.scalars(select(LedgerEntry).order_by(LedgerEntry.id)).all()
        db.session.expunge_all()
        return rows


def total_of(app, learner_id):
    with app.app_context():
        return db.session.get(LearnerState, learner_id).total_points


@pytest.fixture
def people(make_learner):
    """Two learners with external ids ``lms-1`` and ``lms-2``."""
    return make_learner("ada", external_id="lms-1"), make_learner("grace", external_id="lms-2")


def past(days=1, hour=10):
    at = datetime.now(UTC).replace(hour=hour, minute=0, second=0, microsecond=0) - timedelta(days=days)
    return at.isoformat()


def test_import_jsonl_awards_then_reimport_is_all_duplicates(app, runner, people, tmp_path):
    ada, grace = people
    when = past(2)
    path = write_jsonl(tmp_path / "events.jsonl", [
        {"user": "lms-1", "activity_type": "quiz_completed", "event_key": "q-1", "occurred_at": when,
         "metadata": {"score": 100, "topic": "SQL"}},
        {"user": "lms-1", "activity_type": "comment_posted", "event_key": "c-1", "description": "Nice one"},
        {"user": "lms-2", "activity_type": "weekly_challenge_completed", "event_key": "w-1", "points": 120,
         "occurred_at": when},
    ])
    result = runner.invoke(args=["thrive", "import", path])
    assert result.exit_code == 0, result.output
    assert "Rows read:   3" in result.output
    assert "Awarded:     3 (150 points)" in result.output   # 25 (perfect quiz) + 5 + 120
    assert "Rejected:    0" in result.output

    entries = ledger(app)
    assert [(e.event_key, e.learner_id, e.points) for e in entries] == [
        ("q-1", ada.id, 25), ("c-1", ada.id, 5), ("w-1", grace.id, 120)]
    assert entries[0].meta == {"score": 100, "topic": "SQL"}
    assert entries[0].occurred_at.replace(tzinfo=UTC) == datetime.fromisoformat(when)
    assert entries[1].description == "Nice one"
    assert total_of(app, ada.id) == 30 and total_of(app, grace.id) == 120

    again = runner.invoke(args=["thrive", "import", path])
    assert again.exit_code == 0, again.output
    assert "Awarded:     0 (0 points)" in again.output
    assert "Duplicates:  3" in again.output
    assert len(ledger(app)) == 3
    assert total_of(app, ada.id) == 30


def test_import_csv_with_json_metadata_column(app, runner, people, tmp_path):
    ada, grace = people
    when = past(3, hour=9)
    path = write_csv(tmp_path / "events.csv",
                     ["user", "activity_type", "event_key", "occurred_at", "metadata", "description", "points"], [
                         ["lms-1", "quiz_completed", "csv-1", when, '{"difficulty": "advanced", "topic": "Stats"}',
                          "", ""],
                         ["lms-2", "project_published", "csv-2", when, "", "My portfolio, at last", ""],
                         ["lms-2", "special_event", "csv-3", "", "", "Hackathon", "300"],
                     ])
    result = runner.invoke(args=["thrive", "import", path])
    assert result.exit_code == 0, result.output
    assert "Awarded:     3 (365 points)" in result.output   # 50 + 15 + 300
    entries = ledger(app)
    assert [(e.event_key, e.learner_id, e.points) for e in entries] == [
        ("csv-1", ada.id, 50), ("csv-2", grace.id, 15), ("csv-3", grace.id, 300)]
    assert entries[0].meta == {"difficulty": "advanced", "topic": "Stats"}
    assert entries[1].description == "My portfolio, at last" and entries[1].meta is None
    again = runner.invoke(args=["thrive", "import", path])
    assert "Duplicates:  3" in again.output and again.exit_code == 0


def test_format_option_overrides_the_extension(app, runner, people, tmp_path):
    path = write_jsonl(tmp_path / "events.txt", [
        {"user": "lms-1", "activity_type": "comment_posted", "event_key": "t-1"}])
    refused = runner.invoke(args=["thrive", "import", path])
    assert refused.exit_code == 2
    assert "cannot tell the format" in refused.output and "--format" in refused.output
    assert ledger(app) == []
    result = runner.invoke(args=["thrive", "import", path, "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    assert len(ledger(app)) == 1


def test_caps_apply_as_for_single_awards(app, runner, people, tmp_path):
    when = past(1, hour=11)
    path = write_jsonl(tmp_path / "quizzes.jsonl", [
        {"user": "lms-1", "activity_type": "quiz_completed", "event_key": f"cap-{i}", "occurred_at": when}
        for i in range(12)])
    result = runner.invoke(args=["thrive", "import", path, "--batch-size", "5"])
    assert result.exit_code == 0, result.output
    assert "Awarded:     10 (200 points)" in result.output
    assert "Capped:      2" in result.output
    entries = ledger(app)
    assert [e.capped for e in entries] == [False] * 10 + [True] * 2
    assert total_of(app, people[0].id) == 200


def test_dry_run_validates_everything_and_writes_nothing(app, runner, people, tmp_path):
    good = write_jsonl(tmp_path / "good.jsonl", [
        {"user": "lms-1", "activity_type": "quiz_completed", "event_key": "d-1", "occurred_at": past(1)},
        {"user": "lms-2", "activity_type": "feedback_given", "event_key": "d-2"},
    ])
    result = runner.invoke(args=["thrive", "import", good, "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Valid, new:  2" in result.output
    assert "Dry run: nothing was written." in result.output
    assert ledger(app) == []

    bad = write_jsonl(tmp_path / "bad.jsonl", [
        {"user": "lms-1", "activity_type": "quiz_completed", "event_key": "d-3"},
        {"user": "nobody", "activity_type": "quiz_completed", "event_key": "d-4"},
        {"user": "lms-1", "activity_type": "quiz_completed", "event_key": "d-5", "points": 40},
    ])
    result = runner.invoke(args=["thrive", "import", bad, "--dry-run"])
    assert result.exit_code == 1
    assert "Valid, new:  1" in result.output and "Rejected:    2" in result.output
    assert "line 2: unknown user 'nobody'" in result.output
    assert "line 3: quiz_completed does not accept a custom amount of points" in result.output
    assert ledger(app) == []
    with app.app_context():
        assert db.session.scalar(select(func.sum(LearnerState.total_points))) == 0

    # After a real import, a dry run reports the rows as already imported.
    assert runner.invoke(args=["thrive", "import", good]).exit_code == 0
    result = runner.invoke(args=["thrive", "import", good, "--dry-run"])
    assert "Duplicates:  2 (event key already imported)" in result.output
    assert len(ledger(app)) == 2


def test_malformed_rows_are_rejected_with_line_numbers(app, runner, people, tmp_path):
    with app.app_context():
        db.session.get(PointRule, "battle_won").enabled = False
        db.session.commit()
        registry.invalidate()
    future = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    path = write_jsonl(tmp_path / "mixed.jsonl", [
        {"user": "lms-1", "activity_type": "comment_posted", "event_key": "ok-1"},          # 1
        "{not json",                                                                        # 2
        "[1, 2, 3]",                                                                        # 3
        {"user": "lms-1", "activity_type": "comment_posted"},                               # 4
        {"user": "ghost", "activity_type": "comment_posted", "event_key": "m-5"},           # 5
        {"user": "lms-1", "activity_type": "juggling", "event_key": "m-6"},                 # 6
        {"user": "lms-1", "activity_type": "special_event", "event_key": "m-7", "points": 5},  # 7
        {"user": "lms-1", "activity_type": "comment_posted", "event_key": "m-8", "occurred_at": future},  # 8
        {"user": "lms-1", "activity_type": "comment_posted", "event_key": "m-9", "metadata": [1]},  # 9
        "",                                                                                 # 10 (blank)
        {"user": "lms-1", "activity_type": "battle_won", "event_key": "m-11"},              # 11
        {"user": "lms-1", "activity_type": "comment_posted", "event_key": "m-12", "when": "now"},  # 12
        {"user": "lms-1", "activity_type": "comment_posted", "event_key": "m-13", "occurred_at": "yesterday"},
        {"user": "lms-2", "activity_type": "comment_posted", "event_key": "ok-2"},          # 14
    ])
    result = runner.invoke(args=["thrive", "import", path])
    assert result.exit_code == 1
    out = result.output
    assert "Rows read:   13" in out
    assert "Awarded:     2 (10 points)" in out
    assert "Rejected:    11" in out
    for expected in (
        "line 2: not valid JSON",
        "line 3: expected a JSON object, got list",
        "line 4: event_key is required",
        "line 5: unknown user 'ghost'",
        "line 6: unknown activity type 'juggling'",
        "line 7: points for special_event must be between 100 and 1000",
        "line 8: occurred_at",
        "line 9: metadata must be a JSON object",
        "line 11: activity type 'battle_won' is disabled",
        "line 12: unknown field(s) 'when'",
        "line 13: occurred_at is not an ISO 8601 instant",
    ):
        assert expected in out, expected
    assert "lies in the future" in out
    assert [e.event_key for e in ledger(app)] == ["ok-1", "ok-2"]


def test_event_key_reused_with_another_payload_is_rejected(app, runner, people, tmp_path):
    first = write_jsonl(tmp_path / "a.jsonl", [
        {"user": "lms-1", "activity_type": "comment_posted", "event_key": "same", "description": "one"}])
    second = write_jsonl(tmp_path / "b.jsonl", [
        {"user": "lms-1", "activity_type": "comment_posted", "event_key": "same", "description": "two"},
        {"user": "lms-2", "activity_type": "comment_posted", "event_key": "other"}])
    assert runner.invoke(args=["thrive", "import", first]).exit_code == 0
    result = runner.invoke(args=["thrive", "import", second])
    assert result.exit_code == 1
    assert "event key conflict" in result.output
    assert "line 1: event key 'same' was already used" in result.output
    assert [(e.event_key, e.description) for e in ledger(app)] == [("same", "one"), ("other", None)]


def test_malformed_csv_rows_and_headers(app, runner, people, tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text(
        "user,activity_type,event_key,metadata,points\n"
        "lms-1,comment_posted,r-1,,\n"
        "lms-1,comment_posted,r-2,{bad json},\n"
        "lms-1,comment_posted,r-3,,,extra\n"
        "lms-1,special_event,r-4,,lots\n"
        "\n"
        '"lms-2",comment_posted,"r-6","{""topic"": ""SQL""}",\n',
        encoding="utf-8",
    )
    result = runner.invoke(args=["thrive", "import", str(path)])
    assert result.exit_code == 1
    assert "line 3: metadata is not valid JSON" in result.output
    assert "line 4: 6 fields, but the header has 5" in result.output
    assert "line 5: points must be an integer, got 'lots'" in result.output
    entries = ledger(app)
    assert [e.event_key for e in entries] == ["r-1", "r-6"]
    assert entries[1].meta == {"topic": "SQL"}


@pytest.mark.parametrize("content, message", [
    ("who,what\nlms-1,comment_posted\n", "bad CSV header: missing column(s) user, activity_type, event_key"),
    ("user,activity_type,event_key,colour\n", "unknown column(s) 'colour'"),
    ("", "the CSV file is empty"),
    ('user,activity_type,event_key\nlms-1,"comment_posted,r-1\n', "cannot be parsed"),
])
def test_unusable_csv_files_fail_clearly(app, runner, tmp_path, content, message):
    path = tmp_path / "broken.csv"
    path.write_text(content, encoding="utf-8")
    result = runner.invoke(args=["thrive", "import", str(path)])
    assert result.exit_code == 2
    assert message in result.output
    assert ledger(app) == []


def test_unreadable_files_fail_clearly(app, runner, tmp_path):
    missing = runner.invoke(args=["thrive", "import", str(tmp_path / "nope.jsonl")])
    assert missing.exit_code == 2 and "no such file" in missing.output
    binary = tmp_path / "latin1.jsonl"
    binary.write_bytes('{"user": "Zoë"}\n'.encode("latin-1"))
    result = runner.invoke(args=["thrive", "import", str(binary)])
    assert result.exit_code == 2 and "is not UTF-8 text" in result.output
    bad_size = runner.invoke(args=["thrive", "import", str(binary), "--batch-size", "0"])
    assert bad_size.exit_code == 2 and "must be at least 1" in bad_size.output
