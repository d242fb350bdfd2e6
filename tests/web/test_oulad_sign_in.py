"""An OULAD learner created by the importer signs in through a link and sees their points (issue 13).

The expected points are computed from the CSV files alone (the §14 mapping,
§4.2 default rules and caps), independently of Thrive's code; the learner's
home page must show exactly that total, plus the daily-login points of the
visit itself. A synthetic OULAD folder always runs; one real student from
``../shared/data/oulad`` (or ``$THRIVE_OULAD_DIR``) runs when the data is present.
"""
from __future__ import annotations

import csv
import os
import re
from collections import Counter, defaultdict
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.services.ingest.test_oulad import write_oulad
from thrive.services.ingest.oulad import import_oulad

RATE = {"CMA": 20, "TMA": 15, "Exam": 75}
PERFECT_CMA = 25
CAP = {"CMA": 10, "TMA": 5, "Exam": 1}  # CMA and TMA per day, Exam per ISO week
DAILY_LOGIN = 5
#: ``../shared/data/oulad`` next to the repository; THRIVE_OULAD_DIR points elsewhere (e.g. from a git worktree).
REAL_DATA = Path(os.environ.get("THRIVE_OULAD_DIR") or Path(__file__).resolve().parents[3] / "shared" / "data"
                 / "oulad")


def points_by_student(folder: Path) -> dict[int, int]:
    """Each student's total from the CSVs: banked rows skipped, caps applied in time order."""
    with open(folder / "assessments.csv", newline="") as f:
        assessments = {r["id_assessment"]: r for r in csv.DictReader(f)}
    with open(folder / "studentAssessment.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["is_banked"] == "0"]
    events = []
    for r in rows:
        a = assessments[r["id_assessment"]]
        year, season = int(a["code_presentation"][:4]), a["code_presentation"][4]
        day = date(year, 2 if season == "B" else 10, 1) + timedelta(days=int(r["date_submitted"]))
        kind = a["assessment_type"]
        points = PERFECT_CMA if kind == "CMA" and r["score"] == "100" else RATE[kind]
        events.append((day, int(r["id_student"]), int(r["id_assessment"]), kind, points))
    used: Counter = Counter()
    totals: dict[int, int] = defaultdict(int)
    for day, student, _assessment, kind, points in sorted(events):
        period = day.isocalendar()[:2] if kind == "Exam" else day
        if used[(student, kind, period)] < CAP[kind]:
            used[(student, kind, period)] += 1
            totals[student] += points
    return dict(totals)


def shown_total(html: str) -> int:
    match = re.search(r"<dt>Total points</dt><dd>([\d,]+)</dd>", html)
    assert match, html
    return int(match.group(1).replace(",", ""))


def sign_in_through_link_and_read_total(app, api_headers, external_id: str) -> tuple[int, int]:
    """(total the API reports before, total the home page shows after signing in through a link)."""
    client = app.test_client()
    api_total = client.get(f"/api/v1/users/{external_id}", headers=api_headers).get_json()["total_points"]
    link = client.post(f"/api/v1/users/{external_id}/sign-in-links", headers=api_headers)
    assert link.status_code == 201, link.get_json()
    landed = client.get(urlsplit(link.get_json()["url"]).path)
    assert landed.status_code == 302 and landed.headers["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    return api_total, shown_total(home.get_data(as_text=True))


ASSESSMENTS = [["AAA", "2013J", "100", "CMA", "20", "10"], ["AAA", "2013J", "101", "TMA", "40", "20"],
               ["AAA", "2013J", "102", "Exam", "?", "100"], ["AAA", "2013J", "103", "Exam", "?", "100"],
               ["BBB", "2014B", "200", "CMA", "15", "5"]]
ASSESSMENTS += [["CCC", "2014J", str(300 + i), "CMA", "10", "1"] for i in range(12)]
SUBMISSIONS = [
    ["1", "100", "5", "0", "100"],   # perfect CMA: 25
    ["1", "101", "38", "0", "81"],   # TMA: 15
    ["1", "200", "-2", "0", "64"],   # CMA before the presentation start: 20
    ["1", "102", "230", "0", "55"],  # Exam: 75
    ["1", "103", "231", "0", "60"],  # a second Exam in the same ISO week: capped
    ["1", "100", "9", "1", "90"],    # banked: skipped
    ["2", "100", "5", "0", "40"],
] + [["2", str(300 + i), "10", "0", "70"] for i in range(12)]  # 12 CMAs on one day: 10 count


def test_synthetic_oulad_learners_see_exactly_their_points(app, api_headers, tmp_path):
    folder = write_oulad(tmp_path / "oulad", ASSESSMENTS, SUBMISSIONS)
    expected = points_by_student(folder)
    assert expected == {1: 25 + 15 + 20 + 75, 2: 20 + 10 * 20}  # the independent figures, spelled out
    with app.app_context():
        import_oulad(folder)
    for student, points in expected.items():
        api_total, shown = sign_in_through_link_and_read_total(app, api_headers, f"oulad:{student}")
        assert api_total == points
        assert shown == points + DAILY_LOGIN


@pytest.mark.skipif(not (REAL_DATA / "studentAssessment.csv").exists(), reason="real OULAD data not present")
def test_a_real_oulad_student_sees_exactly_their_points(app, api_headers, tmp_path):
    """The real student with the most submissions (their rows and assessments only, to stay quick)."""
    with open(REAL_DATA / "studentAssessment.csv", newline="") as f:
        rows = list(csv.reader(f))[1:]
    student = Counter(r[0] for r in rows).most_common(1)[0][0]
    mine = [r for r in rows if r[0] == student]
    with open(REAL_DATA / "assessments.csv", newline="") as f:
        wanted = {r[1] for r in mine}
        assessments = [r for r in list(csv.reader(f))[1:] if r[2] in wanted]
    folder = write_oulad(tmp_path / "real", assessments, mine)
    expected = points_by_student(folder)[int(student)]
    assert expected > 0
    with app.app_context():
        import_oulad(folder)
    api_total, shown = sign_in_through_link_and_read_total(app, api_headers, f"oulad:{student}")
    assert api_total == expected and shown == expected + DAILY_LOGIN
