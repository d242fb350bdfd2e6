"""Bulk awards from a CSV file (§11): a dry run that writes nothing, then the real run.

Columns (header row required, any order): ``username`` or ``external_id``
(or ``user``: matched as a username, then as an external id), ``activity_type``,
``points`` (empty = the rule's amount; only rules that take a custom amount
accept one, ``admin_adjustment`` included) and ``reason`` (required; becomes
the ledger description).

Every row gets a deterministic event key built from its content —
``bulk:<sha256(learner id | activity type | points | reason | n)>`` where n
counts identical rows earlier in the file — so re-running the same file (or a
corrected copy) awards nothing twice (§4.3). The awards go through
``award_many`` (§4.1) in short write transactions
(:class:`~thrive.db.WriteSlicer`: about 0.5 s each on
SQLite, so other web writes are not held up by a 10,000-row file); the run's
single audit entry is written right after them, with the summary.
"""
from __future__ import annotations

import csv
import hashlib
import io
from collections import Counter
from dataclasses import dataclass, field

from more_itertools import chunked
from sqlalchemy import func, select

from thrive.db import WriteSlicer, write_transaction
from thrive.extensions import db
from thrive.models import Learner, LedgerEntry
from thrive.services.admin.audit import record
from thrive.services.errors import PointsOutOfRange, ThriveError, ValidationError
from thrive.services.points.award import AwardRequest, AwardResult, award_many, compute_points
from thrive.services.points.registry import load_registry

MAX_ROWS = 10_000
MAX_BYTES = 2 * 1024 * 1024
METADATA = {"source": "bulk_csv"}


@dataclass
class BulkRow:
    """One CSV row after checking. ``line`` is the 1-based line in the file (header = 1).

    ``status``: ``"ok"`` (would award / awarded), ``"duplicate"`` (already awarded:
    same event key), ``"capped"`` (written with 0 points over a cap; real run only)
    or ``"error"`` (``error`` holds a code: see :data:`ERROR_CODES`).
    ``points`` is the amount asked for (or the rule's), ``awarded`` what the real run awarded.
    """

    line: int
    who: str
    activity_type: str
    points: int | None
    reason: str
    who_column: str = "username"
    custom_points: int | None = None
    learner_id: int | None = None
    username: str | None = None
    event_key: str | None = None
    status: str = "ok"
    error: str | None = None
    error_detail: str | None = None
    awarded: int = 0


@dataclass
class BulkReport:
    """A bulk run's rows and totals. ``dry_run`` True means nothing was written."""

    dry_run: bool
    rows: list[BulkRow] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        c = Counter(r.status for r in self.rows)
        return {"rows": len(self.rows), "ok": c["ok"], "duplicate": c["duplicate"], "capped": c["capped"],
                "error": c["error"]}

    @property
    def points(self) -> int:
        """Points awarded (real run) or that would be awarded before caps (dry run)."""
        if self.dry_run:
            return sum(r.points or 0 for r in self.rows if r.status == "ok")
        return sum(r.awarded for r in self.rows)


#: Row error codes (phrased by the web layer).
ERROR_CODES = ("unknown_learner", "not_a_learner", "unknown_activity_type", "activity_disabled", "invalid_points",
               "custom_points_not_allowed", "points_out_of_range", "reason_required", "reason_too_long",
               "award_refused")


def _event_key(learner_id: int, activity_type: str, points: int | None, reason: str, occurrence: int) -> str:
    digest = hashlib.sha256(f"{learner_id}|{activity_type}|{points}|{reason}|{occurrence}".encode()).hexdigest()
    return f"bulk:{digest[:40]}"


def parse(data: bytes) -> list[BulkRow]:
    """Parse CSV bytes (UTF-8, optional BOM) into rows; raises ``ValidationError`` for an unusable file."""
    if len(data) > MAX_BYTES:
        raise ValidationError(f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB", code="file_too_large")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError("the file is not UTF-8 text", code="not_utf8") from None
    reader = csv.DictReader(io.StringIO(text))
    header = {(h or "").strip().lower() for h in (reader.fieldnames or [])}
    who_columns = [c for c in ("username", "external_id", "user") if c in header]
    missing = [c for c in ("activity_type", "points", "reason") if c not in header]
    if not who_columns or missing:
        raise ValidationError("the header must have username (or external_id), activity_type, points and reason"
                              + (f"; missing: {', '.join(missing)}" if missing else ""), code="bad_header")
    rows: list[BulkRow] = []
    for raw in reader:
        rec = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items() if k is not None}
        if not any(rec.values()):
            continue
        if len(rows) >= MAX_ROWS:
            raise ValidationError(f"at most {MAX_ROWS} rows per file", code="too_many_rows")
        who = next((rec[c] for c in who_columns if rec.get(c)), "")
        row = BulkRow(line=reader.line_num, who=who, activity_type=rec.get("activity_type", ""), points=None,
                      reason=rec.get("reason", ""))
        row.who_column = next((c for c in who_columns if rec.get(c)), who_columns[0])
        raw_points = rec.get("points", "")
        if raw_points:
            try:
                row.points = int(raw_points)
            except ValueError:
                row.status, row.error, row.error_detail = "error", "invalid_points", raw_points[:40]
        rows.append(row)
    return rows


def _resolve_learners(rows: list[BulkRow]) -> None:
    names = {r.who.lower() for r in rows if r.who and r.who_column in ("username", "user")}
    ext = {r.who for r in rows if r.who and r.who_column in ("external_id", "user")}
    by_name: dict[str, tuple[int, str, bool]] = {}
    by_ext: dict[str, tuple[int, str, bool]] = {}
    for chunk in chunked(sorted(names), 500):
        query = select(Learner.id, Learner.username, Learner.is_learner).where(func.lower(Learner.username).in_(chunk))
        for lid, username, is_learner in db.session.execute(query):
            by_name[username.lower()] = (lid, username, is_learner)
    for chunk in chunked(sorted(ext), 500):
        for lid, username, is_learner, external_id in db.session.execute(
                select(Learner.id, Learner.username, Learner.is_learner, Learner.external_id)
                .where(Learner.external_id.in_(chunk))):
            by_ext[external_id] = (lid, username, is_learner)
    for r in rows:
        found = None
        if r.who_column in ("username", "user"):
            found = by_name.get(r.who.lower())
        if found is None and r.who_column in ("external_id", "user"):
            found = by_ext.get(r.who)
        if found:
            r.learner_id, r.username = found[0], found[1]
            if not found[2]:
                _fail(r, "not_a_learner")
        else:
            _fail(r, "unknown_learner")


def _fail(row: BulkRow, code: str, detail: str | None = None) -> None:
    if row.status != "error":
        row.status, row.error, row.error_detail = "error", code, detail


def check(rows: list[BulkRow]) -> None:
    """Validate rows in place (learner, rule, points, reason) and give each valid row its event key."""
    registry = load_registry()
    _resolve_learners(rows)
    seen: Counter = Counter()
    for r in rows:
        rule = registry.rules.get(r.activity_type)
        if not r.reason:
            _fail(r, "reason_required")
        elif len(r.reason) > 500:
            _fail(r, "reason_too_long")
        if rule is None:
            _fail(r, "unknown_activity_type", r.activity_type[:64])
            continue
        if not rule.enabled:
            _fail(r, "activity_disabled", r.activity_type)
        if r.status == "error":
            continue
        if r.points is not None and not rule.allow_custom_points:
            _fail(r, "custom_points_not_allowed", r.activity_type)
            continue
        if r.points is None and rule.allow_custom_points and rule.base_points == 0:
            _fail(r, "invalid_points", "")
            continue
        custom = r.points
        try:
            r.points = compute_points(rule, None, custom)
        except PointsOutOfRange as exc:
            _fail(r, "points_out_of_range", exc.message)
            continue
        ident = (r.learner_id, r.activity_type, custom, r.reason)
        r.event_key = _event_key(r.learner_id, r.activity_type, custom, r.reason, seen[ident])
        r.custom_points = custom
        seen[ident] += 1
    keys = [r.event_key for r in rows if r.event_key]
    done: set[str] = set()
    for chunk in chunked(keys, 500):
        done.update(db.session.scalars(select(LedgerEntry.event_key).where(LedgerEntry.event_key.in_(chunk))))
    for r in rows:
        if r.status == "ok" and r.event_key in done:
            r.status = "duplicate"


def run(actor: Learner, data: bytes, *, dry_run: bool, filename: str | None = None) -> BulkReport:
    """Check (dry run) or apply a bulk-award CSV; return a :class:`BulkReport`.

    The dry run writes nothing at all (no audit entry either). The real run
    awards every valid row not already awarded through ``award_many`` and
    then appends one ``learner.bulk_award`` audit entry with the counts.
    Raises ``ValidationError`` for an unusable file (nothing is written).
    """
    rows = parse(data)
    check(rows)
    db.session.rollback()  # end the read transaction: a dry run leaves nothing behind
    report = BulkReport(dry_run=dry_run, rows=rows)
    if dry_run:
        return report
    todo = [r for r in rows if r.status == "ok"]
    requests = [AwardRequest(r.learner_id, r.activity_type, r.event_key, metadata=dict(METADATA),
                             description=r.reason, points=r.custom_points) for r in todo]
    results = WriteSlicer(max(len(requests), 1)).run(requests, award_many)
    for r, result in zip(todo, results, strict=True):
        if isinstance(result, AwardResult):
            r.awarded = result.points_awarded
            r.status = "duplicate" if result.duplicate else ("capped" if result.capped else "ok")
        else:
            _fail(r, "award_refused", result.message if isinstance(result, ThriveError) else str(result))
    with write_transaction():
        record(actor, "learner.bulk_award", "bulk_csv", filename, None,
               {"file_sha256": hashlib.sha256(data).hexdigest(), **report.counts, "points": report.points})
    return report
