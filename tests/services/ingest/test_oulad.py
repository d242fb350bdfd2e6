"""OULAD import (§14, issue 2 item 6): mapping, instants, banked skip, --shift-to-now, real data.

The hand-made fixtures are written in OULAD's own CSV format into ``tmp_path``.
The real-data test reads ``../shared/data/oulad`` (skipped when absent) and
computes every expected figure independently from the CSVs with the csv module.
"""
from __future__ import annotations

import csv
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.conftest import once_on_heavy_backend
from thrive.extensions import db
from thrive.models import Learner, LearnerState, LedgerEntry
from thrive.services.ingest.oulad import (
    BUSY_WEEK_SUBMISSIONS,
    OuladFormatError,
    import_oulad,
    presentation_start,
    shift_for_now,
)

UTC = UTC
REAL_DATA = Path(__file__).resolve().parents[4] / "shared" / "data" / "oulad"


@pytest.fixture
def app_config(database_url) -> dict:
    """The test config with the registry cache on (as in production): the full import awards 170k events."""
    from tests.conftest import _config

    return {**_config(database_url), "THRIVE_REGISTRY_CACHE_SECONDS": 600}


def write_oulad(folder: Path, assessments, submissions) -> Path:
    """Write ``assessments.csv`` / ``studentAssessment.csv`` in OULAD's format; return the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "assessments.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["code_module", "code_presentation", "id_assessment", "assessment_type", "date", "weight"])
        w.writerows(assessments)
    with open(folder / "studentAssessment.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id_student", "id_assessment", "date_submitted", "is_banked", "score"])
        w.writerows(submissions)
    return folder


def entries_by_key(app) -> dict[str, LedgerEntry]:
    with app.app_context():
        rows = db.session.scalars(select(LedgerEntry)).all()
        db.session.expunge_all()
        return {e.event_key: e for e in rows}


def noon(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, 12, tzinfo=UTC)


# --- pure helpers --------------------------------------------------------------------------------

@pytest.mark.parametrize("code, start", [("2013B", date(2013, 2, 1)), ("2014J", date(2014, 10, 1)),
                                         ("2013J", date(2013, 10, 1))])
def test_presentation_start_dates(code, start):
    assert presentation_start(code) == start


@pytest.mark.parametrize("code", ["2013", "2013X", "13J", "abcdJ", ""])
def test_presentation_codes_that_are_not_dates(code):
    with pytest.raises(ValueError):
        presentation_start(code)


# --- mapping on a hand-made fixture ------------------------------------------------------------

ASSESSMENTS = [
    ["AAA", "2013J", "100", "CMA", "20", "10"],
    ["AAA", "2013J", "101", "TMA", "40", "20"],
    ["AAA", "2013J", "102", "Exam", "?", "100"],
    ["BBB", "2014B", "200", "CMA", "15", "5"],
    ["BBB", "2014B", "201", "TMA", "30", "15"],
    ["CCC", "2014J", "300", "Presentation", "30", "15"],   # a type Thrive does not map
    ["DDD", "2014Q", "400", "CMA", "30", "15"],            # a presentation that is not B or J
]
SUBMISSIONS = [
    ["1", "100", "5", "0", "100"],      # line 2: CMA perfect → quiz 25, 2013-10-06
    ["1", "101", "38", "0", "81"],      # line 3: TMA → project_published 15
    ["1", "200", "-2", "0", "64"],      # line 4: CMA in BBB 2014B, submitted before the start: 2014-01-30
    ["2", "102", "230", "0", "55"],     # line 5: Exam → weekly challenge 75
    ["2", "201", "12", "0", "?"],       # line 6: TMA with a missing score
    ["3", "100", "5", "1", "90"],       # line 7: banked → skipped (student 3 has nothing else)
    ["2", "100", "7", "1", "70"],       # line 8: banked → skipped
    ["4", "999", "7", "0", "70"],       # line 9: unknown assessment → rejected
    ["4", "100", "?", "0", "70"],       # line 10: unparsable date → rejected
    ["4", "100", "3", "0", "101"],      # line 11: score out of range → rejected
    ["4", "300", "3", "0", "50"],       # line 12: unmapped assessment type → rejected
    ["4", "400", "3", "0", "50"],       # line 13: bad presentation → rejected
    ["x", "100", "3", "0", "50"],       # line 14: unparsable student id → rejected
    ["5", "100", "9", "2", "50"],       # line 15: is_banked neither 0 nor 1 → rejected
]


def test_mapping_instants_bonus_and_banked_skip(app, runner, tmp_path):
    folder = write_oulad(tmp_path / "oulad", ASSESSMENTS, SUBMISSIONS)
    result = runner.invoke(args=["thrive", "import-oulad", str(folder)])
    assert result.exit_code == 1, result.output         # rows were rejected
    out = result.output
    assert "Rows read:   14" in out
    assert "Awarded:     5 (150 points)" in out          # 25 (perfect CMA) + 15 + 20 + 75 + 15
    assert "Skipped:     2 (2 banked)" in out
    assert "Rejected:    7" in out
    for expected in ("line 9: unknown assessment 999",
                     "line 10: unparsable field: date_submitted '?' is not a whole number",
                     "line 11: unparsable field: score '101' is not a whole number from 0 to 100",
                     "line 12: assessment 300 has unknown type 'Presentation'",
                     "line 13: assessment 400: presentation code '2014Q' is not YYYYB or YYYYJ",
                     "line 14: unparsable field: id_student 'x' is not a whole number",
                     "line 15: is_banked must be 0 or 1, got '2'"):
        assert expected in out, expected
    assert "Learners created: 2" in out                  # students 1 and 2 (3 only banked, 4/5 rejected)

    entries = entries_by_key(app)
    assert set(entries) == {"oulad:1:100", "oulad:1:101", "oulad:1:200", "oulad:2:102", "oulad:2:201"}
    quiz = entries["oulad:1:100"]
    assert (quiz.activity_type, quiz.points, quiz.capped) == ("quiz_completed", 25, False)  # 20 + 25 %
    assert quiz.meta["score"] == 100 and quiz.meta["topic"] == "AAA"
    assert quiz.occurred_at.replace(tzinfo=UTC) == noon(date(2013, 10, 6))
    assert quiz.local_date == date(2013, 10, 6) and quiz.week == "2013-W40"
    tma = entries["oulad:1:101"]
    assert (tma.activity_type, tma.points) == ("project_published", 15)
    assert tma.occurred_at.replace(tzinfo=UTC) == noon(date(2013, 11, 8))
    early = entries["oulad:1:200"]
    assert (early.activity_type, early.points, early.meta["topic"]) == ("quiz_completed", 20, "BBB")
    assert early.occurred_at.replace(tzinfo=UTC) == noon(date(2014, 1, 30))
    exam = entries["oulad:2:102"]
    assert (exam.activity_type, exam.points) == ("weekly_challenge_completed", 75)
    assert exam.occurred_at.replace(tzinfo=UTC) == noon(date(2013, 10, 1) + timedelta(days=230))
    missing_score = entries["oulad:2:201"]
    assert "score" not in missing_score.meta and missing_score.points == 15

    with app.app_context():
        learners = {row.external_id: row for row in db.session.scalars(select(Learner))}
        assert set(learners) == {"oulad:1", "oulad:2"}
        one = learners["oulad:1"]
        assert one.username == "oulad_1" and one.display_name and one.display_name != one.username
        assert one.topics == ["AAA", "BBB"] and learners["oulad:2"].topics == ["AAA", "BBB"]
        assert one.timezone == app.config["THRIVE_TIMEZONE"] and one.password_hash is None
        assert db.session.get(LearnerState, one.id).total_points == 25 + 15 + 20

    again = runner.invoke(args=["thrive", "import-oulad", str(folder)])
    assert "Awarded:     0 (0 points)" in again.output and "Duplicates:  5" in again.output
    assert "Learners created" not in again.output
    assert len(entries_by_key(app)) == 5
    assert runner.invoke(args=["thrive", "verify"]).exit_code == 0


def test_daily_and_weekly_caps_apply(app_ctx, tmp_path):
    assessments = [["AAA", "2013J", str(500 + i), "CMA", "10", "1"] for i in range(12)]
    assessments += [["AAA", "2013J", "600", "Exam", "?", "100"], ["AAA", "2013J", "601", "Exam", "?", "100"]]
    subs = [["7", str(500 + i), "10", "0", "70"] for i in range(12)]       # 12 quizzes on one day: cap 10/day
    subs += [["7", "600", "13", "0", "60"], ["7", "601", "14", "0", "60"]]  # two exams in one ISO week: cap 1/week
    folder = write_oulad(tmp_path / "caps", assessments, subs)
    summary = import_oulad(folder, batch_size=4)
    assert (summary.awarded, summary.capped, summary.rejected) == (11, 3, 0)
    assert summary.points == 10 * 20 + 75
    capped = sorted(k for k, e in entries_by_key(app_ctx).items() if e.capped)
    assert capped == ["oulad:7:510", "oulad:7:511", "oulad:7:601"]


def test_an_oulad_event_key_taken_by_another_event_is_rejected(app_ctx, make_learner, tmp_path):
    from thrive.services.points.award import award

    other = make_learner("someone")
    award(other.id, "comment_posted", event_key="oulad:1:100")
    folder = write_oulad(tmp_path / "taken", ASSESSMENTS[:2], [["1", "100", "5", "0", "100"],
                                                              ["1", "101", "9", "0", "80"]])
    summary = import_oulad(folder)
    assert (summary.awarded, summary.duplicates, summary.rejected) == (1, 0, 1)
    assert summary.rejections[0].line == 2 and "already used" in summary.rejections[0].reason


# --- --shift-to-now ------------------------------------------------------------------------------

def busy_fixture(folder: Path) -> Path:
    """100 students submit on Monday 2013-10-07 (day 6 of 2013J); student 1 submits later too."""
    assessments = [["AAA", "2013J", str(700 + i), "CMA", "10", "1"] for i in range(6)]
    subs = [[str(1000 + s), "700", "6", "0", "80"] for s in range(BUSY_WEEK_SUBMISSIONS)]
    # Later submissions by student 1000: +8, +9, +10 and +14 days after the busy Monday.
    subs += [["1000", "701", "14", "0", "90"], ["1000", "702", "15", "0", "100"],
             ["1000", "703", "16", "0", "90"], ["1000", "704", "20", "0", "90"]]
    # A quiet earlier week (one submission) does not anchor anything.
    subs += [["1001", "705", "-20", "0", "50"]]
    return write_oulad(folder, assessments, subs)


def test_shift_to_now_moves_whole_weeks_and_skips_the_future(app, tmp_path):
    folder = busy_fixture(tmp_path / "busy")
    now = datetime(2026, 3, 11, 15, 0, tzinfo=UTC)           # Wednesday of 2026-W11
    with app.app_context():
        summary = import_oulad(folder, shift_to_now=True, now=now)
    # Computed independently: the busy Monday 2013-10-07 must land on Monday 2026-03-02 (2026-W10).
    weeks = (date(2026, 3, 2) - date(2013, 10, 7)).days // 7
    assert (date(2026, 3, 2) - date(2013, 10, 7)).days % 7 == 0
    assert (summary.shift_weeks, summary.anchor_week, summary.target_week) == (weeks, "2013-W41", "2026-W10")
    assert summary.skipped == 2 and summary.skip_reasons == {"in the future after the shift": 2}
    assert (summary.awarded, summary.rejected) == (103, 0)
    entries = entries_by_key(app)
    shift = timedelta(weeks=weeks)
    assert entries["oulad:1000:700"].occurred_at.replace(tzinfo=UTC) == noon(date(2013, 10, 7)) + shift
    assert entries["oulad:1000:700"].occurred_at.replace(tzinfo=UTC) == datetime(2026, 3, 2, 12, tzinfo=UTC)
    assert entries["oulad:1000:700"].week == "2026-W10"
    assert entries["oulad:1000:701"].occurred_at.replace(tzinfo=UTC) == datetime(2026, 3, 10, 12, tzinfo=UTC)
    assert entries["oulad:1000:702"].occurred_at.replace(tzinfo=UTC) == datetime(2026, 3, 11, 12, tzinfo=UTC)
    assert entries["oulad:1000:702"].points == 25
    assert "oulad:1000:703" not in entries and "oulad:1000:704" not in entries  # Thu 12th, Mon 16th: future
    assert entries["oulad:1001:705"].occurred_at.replace(tzinfo=UTC) == noon(date(2013, 9, 11)) + shift

    # The same import in the same week: all duplicates; a week later the
    # shift grows by one week and the already-imported rows stay as they are.
    with app.app_context():
        again = import_oulad(folder, shift_to_now=True, now=now + timedelta(hours=2))
        later = import_oulad(folder, shift_to_now=True, now=now + timedelta(days=7))
    assert (again.awarded, again.duplicates, again.skipped) == (0, 103, 2)
    assert later.shift_weeks == weeks + 1
    assert (later.awarded, later.duplicates, later.skipped, later.rejected) == (0, 103, 2, 0)
    assert any("another instant" in n for n in later.notes)


def test_shift_anchor_falls_back_to_the_last_week_when_none_is_busy():
    # 2014-02-03 is in 2014-W06, 2014-02-12 in 2014-W07; neither week has 100 submissions.
    instants = [datetime(2014, 2, 3, 12, tzinfo=UTC), datetime(2014, 2, 12, 12, tzinfo=UTC)]
    now = datetime(2026, 1, 7, 9, tzinfo=UTC)                # 2026-W02, so the target is 2026-W01
    weeks, anchor, target = shift_for_now(instants, now)
    assert (anchor, target) == ("2014-W07", "2026-W01")
    assert weeks == (date(2025, 12, 29) - date(2014, 2, 10)).days // 7
    assert shift_for_now([], now) == (0, None, "2026-W01")


def test_missing_files_and_columns_fail_clearly(app, runner, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = runner.invoke(args=["thrive", "import-oulad", str(empty)])
    assert result.exit_code == 2 and "assessments.csv is missing" in result.output
    folder = tmp_path / "cols"
    folder.mkdir()
    (folder / "assessments.csv").write_text("code_module,code_presentation,id_assessment\nAAA,2013J,1\n")
    (folder / "studentAssessment.csv").write_text("id_student,id_assessment\n1,1\n")
    result = runner.invoke(args=["thrive", "import-oulad", str(folder)])
    assert result.exit_code == 2 and "lacks column(s) assessment_type" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count(Learner.id))) == 0
        with pytest.raises(OuladFormatError):
            import_oulad(empty)


# --- the real extract ------------------------------------------------------------------------------

def expected_from_csvs(folder: Path) -> dict:
    """Every figure of a full import, computed from the CSVs alone (platform time zone UTC)."""
    with open(folder / "assessments.csv", newline="") as f:
        assessments = {r["id_assessment"]: r for r in csv.DictReader(f)}
    with open(folder / "studentAssessment.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    kept = [r for r in rows if r["is_banked"] == "0"]
    rate = {"CMA": 20, "TMA": 15, "Exam": 75}
    events = []
    for r in kept:
        a = assessments[r["id_assessment"]]
        year, season = int(a["code_presentation"][:4]), a["code_presentation"][4]
        day = date(year, 2 if season == "B" else 10, 1) + timedelta(days=int(r["date_submitted"]))
        points = rate[a["assessment_type"]]
        if a["assessment_type"] == "CMA" and r["score"] == "100":
            points = 25
        events.append((day, int(r["id_student"]), int(r["id_assessment"]), a["assessment_type"], points))
    events.sort()
    used: Counter = Counter()
    awarded = capped = points_total = perfect_awarded = 0
    for day, student, _aid, kind, points in events:
        period = day.isocalendar()[:2] if kind == "Exam" else day
        limit = {"CMA": 10, "TMA": 5, "Exam": 1}[kind]
        if used[(student, kind, period)] >= limit:
            capped += 1
        else:
            used[(student, kind, period)] += 1
            awarded += 1
            points_total += points
            perfect_awarded += kind == "CMA" and points == 25
    return {
        "rows": len(rows), "banked": len(rows) - len(kept), "awarded": awarded, "capped": capped,
        "points": points_total, "students": len({r["id_student"] for r in kept}),
        "perfect_awarded": perfect_awarded,
    }


@pytest.mark.slow
@once_on_heavy_backend
@pytest.mark.skipif(not (REAL_DATA / "studentAssessment.csv").is_file(), reason="OULAD extract not present")
def test_full_oulad_import_counts_reimport_and_verify(app, runner):
    expected = expected_from_csvs(REAL_DATA)
    assert expected["rows"] == 173_912  # as the extract's README says

    first = runner.invoke(args=["thrive", "import-oulad", str(REAL_DATA), "--batch-size", "2000"])
    assert first.exit_code == 0, first.output[-2000:]
    out = first.output
    assert f"Rows read:   {expected['rows']:,}" in out
    assert f"Awarded:     {expected['awarded']:,} ({expected['points']:,} points)" in out
    assert f"Capped:      {expected['capped']:,}" in out
    assert f"Skipped:     {expected['banked']:,} ({expected['banked']:,} banked)" in out
    assert "Rejected:    0" in out
    assert f"Learners created: {expected['students']:,}" in out
    assert expected["awarded"] + expected["capped"] + expected["banked"] == expected["rows"]

    with app.app_context():
        assert db.session.scalar(select(func.count(LedgerEntry.id))) == expected["awarded"] + expected["capped"]
        assert db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.points), 0))) == expected["points"]
        assert db.session.scalar(select(func.sum(LearnerState.total_points))) == expected["points"]
        assert db.session.scalar(select(func.count(Learner.id))) == expected["students"]
        perfect = db.session.scalar(select(func.count(LedgerEntry.id)).where(
            LedgerEntry.activity_type == "quiz_completed", LedgerEntry.points == 25))
        assert perfect == expected["perfect_awarded"]
        db.session.remove()

    second = runner.invoke(args=["thrive", "import-oulad", str(REAL_DATA), "--batch-size", "2000"])
    assert second.exit_code == 0, second.output[-2000:]
    assert "Awarded:     0 (0 points)" in second.output
    assert f"Duplicates:  {expected['awarded'] + expected['capped']:,}" in second.output
    assert "Learners created" not in second.output

    verified = runner.invoke(args=["thrive", "verify"])
    assert verified.exit_code == 0, verified.output[-2000:]
    assert "No drift" in verified.output
