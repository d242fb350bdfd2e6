"""Importing the Open University Learning Analytics Dataset (``flask thrive import-oulad DIR``, §14).

Reads ``assessments.csv`` and ``studentAssessment.csv`` from a folder and
awards every submission through ``award_many`` (the batch form of
``award()``, §4.1) — exactly those events: no retroactive goal, streak or
quest bonuses are handed out by the importer.

Mapping (issue 2, item 6):

- assessment type ``CMA`` → ``quiz_completed`` (metadata ``score``; a score of
  100 is a perfect score and earns the rule's bonus), ``TMA`` →
  ``project_published``, ``Exam`` → ``weekly_challenge_completed``; the module
  code is the ``topic`` in the metadata and one of the learner's topics;
- ``is_banked = 1`` rows (results carried over from an earlier presentation)
  are skipped;
- one learner per ``id_student``: external id ``oulad:<id>``, username
  ``oulad_<id>``, a pseudonymous display name, the platform time zone;
- a submission happened at 12:00 UTC on the presentation's start day
  (``YYYYB`` → 1 February, ``YYYYJ`` → 1 October of YYYY) plus
  ``date_submitted`` days;
- its event key is ``oulad:<id_student>:<id_assessment>``, so a second import
  awards nothing.

``shift_to_now`` moves every instant by a whole number of weeks so that the
last ISO week with at least :data:`BUSY_WEEK_SUBMISSIONS` submissions becomes
the week before the current one; submissions then in the future are skipped.
Whole weeks keep every cap's outcome (days and ISO weeks map one to one).
"""
from __future__ import annotations

import csv
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from thrive.services.accounts.learners import clean_topics
from thrive.services.ingest.batches import ImportSummary, Progress, award_in_batches
from thrive.services.ingest.oulad_learners import EXTERNAL_ID_PREFIX, ensure_learners
from thrive.services.ingest.spill import SortedSpill
from thrive.services.points.award import AwardRequest
from thrive.timeutil import as_utc, parse_week, platform_week, shift_week, utcnow

ASSESSMENTS_FILE = "assessments.csv"
SUBMISSIONS_FILE = "studentAssessment.csv"
ASSESSMENT_COLUMNS = ("code_module", "code_presentation", "id_assessment", "assessment_type")
SUBMISSION_COLUMNS = ("id_student", "id_assessment", "date_submitted", "is_banked", "score")

#: OULAD assessment type → Thrive activity type.
ACTIVITY_TYPES = {"CMA": "quiz_completed", "TMA": "project_published", "Exam": "weekly_challenge_completed"}
TYPE_LABELS = {"CMA": "Computer-marked assessment", "TMA": "Tutor-marked assignment", "Exam": "Exam"}
#: A week needs this many submissions to anchor ``--shift-to-now``.
BUSY_WEEK_SUBMISSIONS = 100
#: Submissions are placed at this UTC hour of their day.
SUBMISSION_HOUR_UTC = 12
#: Awards per ``award_many`` call. On SQLite each write transaction is still cut to ~0.5 s by the
#: ``WriteSlicer`` (so web writes wait no longer); larger calls only make its pauses a smaller share.
DEFAULT_BATCH_SIZE = 2000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class OuladFormatError(Exception):
    """The folder does not hold usable OULAD files (missing file or column)."""


@dataclass(frozen=True)
class Assessment:
    """One row of ``assessments.csv``; ``start`` is the presentation's start date."""

    id: int
    code_module: str
    code_presentation: str
    assessment_type: str
    start: date


def event_key(student: int, assessment_id: int) -> str:
    """The award's idempotency key of one student's submission of one assessment (a re-import is a duplicate)."""
    return f"{EXTERNAL_ID_PREFIX}{student}:{assessment_id}"


@dataclass(frozen=True)
class Submission:
    """One importable row of ``studentAssessment.csv`` (``line`` is its line in the file).

    ``instant`` is the UTC instant of the submission (before any shift);
    ``score`` is 0–100, or None when OULAD gives ``?``.
    """

    line: int
    student: int
    assessment: Assessment
    days: int
    score: int | None
    instant: datetime

    @property
    def event_key(self) -> str:
        return event_key(self.student, self.assessment.id)


@dataclass
class OuladSummary(ImportSummary):
    """:class:`ImportSummary` plus the shift applied (whole weeks) and the week that anchored it."""

    shift_weeks: int = 0
    anchor_week: str | None = None
    target_week: str | None = None


def presentation_start(code: str) -> date:
    """Start date of a presentation: ``2013B`` → 2013-02-01, ``2014J`` → 2014-10-01.

    Raises ``ValueError`` for any other shape.
    """
    code = code.strip()
    if len(code) != 5 or not code[:4].isdigit() or code[4] not in "BJ":
        raise ValueError(f"presentation code {code!r} is not YYYYB or YYYYJ")
    return date(int(code[:4]), 2 if code[4] == "B" else 10, 1)


def submission_instant(start: date, days: int) -> datetime:
    """12:00 UTC on ``start`` plus ``days`` days (may be negative)."""
    return datetime.combine(start, time(SUBMISSION_HOUR_UTC), tzinfo=UTC) + timedelta(days=days)


def _open_csv(directory: Path, name: str, columns: tuple[str, ...]):
    path = directory / name
    if not path.is_file():
        raise OuladFormatError(f"{path} is missing (an OULAD folder holds {ASSESSMENTS_FILE} and {SUBMISSIONS_FILE})")
    handle = path.open(encoding="utf-8-sig", newline="")
    reader = csv.reader(handle)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        handle.close()
        raise OuladFormatError(f"{path} is empty") from None
    except (csv.Error, UnicodeDecodeError) as exc:
        handle.close()
        raise OuladFormatError(f"{path}: the header cannot be read ({exc})") from exc
    missing = [c for c in columns if c not in header]
    if missing:
        handle.close()
        raise OuladFormatError(f"{path} lacks column(s) {', '.join(missing)}")
    return handle, reader, {c: header.index(c) for c in columns}, len(header)


def read_assessments(directory: str | Path) -> tuple[dict[int, Assessment], dict[int, str]]:
    """Read ``assessments.csv``: (usable assessments by id, reason by id for unusable ones).

    Raises :class:`OuladFormatError` when the file or a column is missing.
    """
    handle, reader, col, width = _open_csv(Path(directory), ASSESSMENTS_FILE, ASSESSMENT_COLUMNS)
    usable: dict[int, Assessment] = {}
    unusable: dict[int, str] = {}
    with handle:
        try:
            for row in reader:
                if not row:
                    continue
                try:
                    ident = int(row[col["id_assessment"]])
                except (ValueError, IndexError):
                    continue  # no id: no submission can refer to it
                kind = row[col["assessment_type"]].strip() if len(row) == width else ""
                if len(row) != width:
                    unusable[ident] = f"assessment {ident} has {len(row)} fields (expected {width})"
                elif kind not in ACTIVITY_TYPES:
                    unusable[ident] = f"assessment {ident} has unknown type {kind!r}"
                else:
                    try:
                        start = presentation_start(row[col["code_presentation"]])
                    except ValueError as exc:
                        unusable[ident] = f"assessment {ident}: {exc}"
                        continue
                    module = row[col["code_module"]].strip()
                    if not module or not clean_topics([module]):
                        unusable[ident] = f"assessment {ident} has no usable module code"
                        continue
                    usable[ident] = Assessment(ident, module, row[col["code_presentation"]].strip(), kind, start)
        except (csv.Error, UnicodeDecodeError) as exc:
            raise OuladFormatError(f"{ASSESSMENTS_FILE} line {reader.line_num}: cannot be parsed ({exc})") from exc
    return usable, unusable


def _parse_int(name: str, raw: str) -> int:
    try:
        return int(raw.strip())
    except ValueError:
        raise ValueError(f"{name} {raw.strip()!r} is not a whole number") from None


def _parse_score(raw: str) -> int | None:
    raw = raw.strip()
    if raw == "?" or raw == "":
        return None
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 100 or value != int(value):
        raise ValueError(f"score {raw!r} is not a whole number from 0 to 100 (or ?)")
    return int(value)


def iter_submissions(directory: str | Path, assessments: dict[int, Assessment], unusable: dict[int, str],
                     summary: ImportSummary) -> Iterator[Submission]:
    """Stream ``studentAssessment.csv``; count rows read, banked skips and rejections into ``summary``.

    Yields the importable submissions (not banked, known assessment, every
    field parsable) in file order, instants unshifted; one row in memory at a
    time. Raises :class:`OuladFormatError` when the file or a column is
    missing, or (while iterating) when a line cannot be parsed.
    """
    handle, reader, col, width = _open_csv(Path(directory), SUBMISSIONS_FILE, SUBMISSION_COLUMNS)
    i_student, i_assessment, i_days, i_banked, i_score = (col[c] for c in SUBMISSION_COLUMNS)
    instants: dict[tuple[date, int], datetime] = {}  # bounded: presentations × days
    with handle:
        try:
            for row in reader:
                line = reader.line_num
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue
                summary.rows_read += 1
                if len(row) != width:
                    summary.reject(line, f"{len(row)} fields (expected {width})", kind="malformed row")
                    continue
                banked = row[i_banked].strip()
                if banked not in ("0", "1"):
                    summary.reject(line, f"is_banked must be 0 or 1, got {banked!r}", kind="unparsable field")
                    continue
                try:
                    student = _parse_int("id_student", row[i_student])
                    ident = _parse_int("id_assessment", row[i_assessment])
                    days = _parse_int("date_submitted", row[i_days])
                    score = _parse_score(row[i_score])
                except ValueError as exc:
                    summary.reject(line, f"unparsable field: {exc}", kind="unparsable field")
                    continue
                if student <= 0:
                    summary.reject(line, f"id_student must be positive, got {student}", kind="unparsable field")
                    continue
                if banked == "1":
                    summary.skip("banked")
                    continue
                assessment = assessments.get(ident)
                if assessment is None:
                    summary.reject(line, unusable.get(ident, f"unknown assessment {ident}"),
                                   kind="unknown assessment")
                    continue
                instant = instants.get((assessment.start, days))
                if instant is None:
                    instant = instants[(assessment.start, days)] = submission_instant(assessment.start, days)
                yield Submission(line, student, assessment, days, score, instant)
        except (csv.Error, UnicodeDecodeError) as exc:
            raise OuladFormatError(f"{SUBMISSIONS_FILE} line {reader.line_num}: cannot be parsed ({exc})") from exc


def read_submissions(directory: str | Path, assessments: dict[int, Assessment], unusable: dict[int, str],
                     summary: ImportSummary) -> list[Submission]:
    """:func:`iter_submissions` as a list (benchmarks and small files; the importer streams)."""
    return list(iter_submissions(directory, assessments, unusable, summary))


def shift_for_now(instants: Iterable[datetime], now: datetime) -> tuple[int, str | None, str]:
    """Whole weeks to add so the last busy ISO week becomes the week before ``now``'s.

    A busy week has at least :data:`BUSY_WEEK_SUBMISSIONS` of ``instants``
    (platform ISO weeks); when no week is that busy, the last week with any
    submission anchors the shift. Returns ``(weeks, anchor week, target week)``;
    ``(0, None, target)`` for no instants.
    """
    return shift_for_weeks(Counter(platform_week(i) for i in instants), now)


def shift_for_weeks(per_week: Counter[str], now: datetime) -> tuple[int, str | None, str]:
    """:func:`shift_for_now` from submissions counted per platform ISO week (``"2014-W05"`` → n)."""
    target = shift_week(platform_week(now), -1)
    per_week = +per_week
    if not per_week:
        return 0, None, target
    busy = [w for w, n in per_week.items() if n >= BUSY_WEEK_SUBMISSIONS]
    anchor = max(busy) if busy else max(per_week)
    weeks = (parse_week(target) - parse_week(anchor)).days // 7
    return weeks, anchor, target


def _epoch(instant: datetime) -> int:
    """Whole seconds since the Unix epoch, rounded down (UTC-aware ``instant``)."""
    return (instant - EPOCH) // timedelta(seconds=1)


def _request(a: Assessment, student: int, score: int | None, learner_id: int, instant: datetime) -> AwardRequest:
    metadata: dict = {"source": "oulad", "topic": a.code_module, "presentation": a.code_presentation,
                      "assessment": a.id, "assessment_type": a.assessment_type}
    if score is not None:
        metadata["score"] = score
    return AwardRequest(
        learner_id=learner_id, activity_type=ACTIVITY_TYPES[a.assessment_type],
        event_key=event_key(student, a.id), occurred_at=instant, metadata=metadata,
        description=f"{TYPE_LABELS[a.assessment_type]} · {a.code_module} {a.code_presentation}",
    )


def import_oulad(
    directory: str | Path,
    *,
    shift_to_now: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    now: datetime | None = None,
    progress: Progress | None = None,
    on_total: Callable[[int], None] | None = None,
) -> OuladSummary:
    """Import an OULAD folder (§14; mapping in the module docstring).

    Args:
        directory: folder with ``assessments.csv`` and ``studentAssessment.csv``.
        shift_to_now: shift instants by whole weeks so the last busy week is
            last week; skip submissions that would then lie in the future.
        batch_size: awards per transaction.
        now: the current instant (tests); defaults to the clock.
        progress / on_total: progress callbacks (rows done per batch / rows to award).

    Returns an :class:`OuladSummary`: rows read = awarded + duplicates +
    capped + skipped (banked, future) + rejected (unknown assessment,
    unparsable fields). Learners are created (bulk) only for students with
    a submission to award.

    Raises :class:`OuladFormatError` when a file or column is missing (nothing written).
    """
    now = as_utc(now) if now else utcnow()
    summary = OuladSummary()
    assessments, unusable = read_assessments(directory)
    per_week: Counter[str] = Counter()
    weeks_of: dict[datetime, str] = {}  # bounded: one entry per distinct instant (day)
    # Streamed (issue 12 item 6): one pass over the CSV spills compact rows to a temporary SQLite
    # file, read back sorted; memory holds only per-week counts, topics per learner and one batch.
    with SortedSpill() as spill:
        for sub in iter_submissions(directory, assessments, unusable, summary):
            week = weeks_of.get(sub.instant)
            if week is None:
                week = weeks_of[sub.instant] = platform_week(sub.instant)
            per_week[week] += 1
            spill.add((_epoch(sub.instant), sub.student, sub.assessment.id, sub.line, sub.score))

        shift = timedelta(0)
        if shift_to_now:
            weeks, anchor, target = shift_for_weeks(per_week, now)
            summary.shift_weeks, summary.anchor_week, summary.target_week = weeks, anchor, target
            shift = timedelta(weeks=weeks)
            if anchor:
                summary.notes.append(f"Shifted by {weeks:,} weeks: {anchor} (the last week with ≥ "
                                     f"{BUSY_WEEK_SUBMISSIONS} submissions) became {target}.")

        upto = _epoch(now - shift)  # instant + shift > now  ⇔  epoch(instant) > upto
        future = spill.count_after(upto)
        if future:
            summary.skip("in the future after the shift", future)

        topics: dict[int, set[str]] = defaultdict(set)
        for _instant, student, ident, _line, _score in spill.sorted(upto):
            topics[student].add(assessments[ident].code_module)
        learner_ids, summary.learners_created = ensure_learners(topics)
        del topics

        # Requests are built batch by batch from the sorted cursor: nothing per row stays in memory.
        items = ((line, _request(assessments[ident], student, score, learner_ids[student],
                                 EPOCH + timedelta(seconds=instant) + shift))
                 for instant, student, ident, line, score in spill.sorted(upto))
        if on_total:
            on_total(spill.count - future)
        award_in_batches(items, summary, batch_size=batch_size, now=now, progress=progress,
                         conflict_is_duplicate=True)
    return summary
