"""The learners of an OULAD import (§14): one per ``id_student``, created in short write transactions.

A student becomes external id ``oulad:<id>``, username ``oulad_<id>`` (with
``_2``, ``_3``… when taken), a pseudonymous display name (Faker, seeded by the
id) and the platform time zone. Learners, their derived-state rows and topics
are bulk-inserted in slices (:class:`~thrive.db.WriteSlicer`),
so web sign-ups are not held up on SQLite; a re-run, or the rest of an
interrupted run, creates only the students still missing.
"""
from __future__ import annotations

from faker import Faker
from sqlalchemy import func, insert, select

from thrive.db import WriteSlicer, write_transaction
from thrive.extensions import db
from thrive.models import Learner, LearnerState, LearnerTopic
from thrive.services.accounts.learners import clean_topics
from thrive.timeutil import platform_timezone_name, utcnow

EXTERNAL_ID_PREFIX = "oulad:"
USERNAME_PREFIX = "oulad_"
#: Most learners created per transaction (fewer on SQLite: the slicer keeps each short).
LEARNER_SLICE = 1000

_fakers: list[Faker] = []


def _faker() -> Faker:
    if not _fakers:
        _fakers.append(Faker("en_GB"))
    return _fakers[0]


def display_name_for(student: int) -> str:
    """A stable pseudonymous display name for an OULAD student (Faker, seeded by the id)."""
    fake = _faker()
    fake.seed_instance(student)
    return f"{fake.first_name()} {fake.last_name()}"


def _existing() -> tuple[dict[str, int], set[str]]:
    """(learner id by ``oulad:`` external id, lower-cased ``oulad_`` usernames already taken)."""
    session = db.session
    existing = {ext: lid for lid, ext in session.execute(
        select(Learner.id, Learner.external_id).where(Learner.external_id.like(f"{EXTERNAL_ID_PREFIX}%")))}
    taken = {name for (name,) in session.execute(
        select(func.lower(Learner.username)).where(Learner.username.like(f"{USERNAME_PREFIX}%")))}
    session.commit()  # end the read transaction before the writes
    return existing, taken


def _insert(rows: list[dict], topics_by_student: dict[int, set[str]]) -> list[int]:
    """Insert one slice of learner rows with their state and topics (one transaction); their ids in order."""
    with write_transaction() as session:
        session.execute(insert(Learner), [{k: v for k, v in r.items() if k != "student"} for r in rows])
        externals = [r["external_id"] for r in rows]
        ids = dict(session.execute(select(Learner.external_id, Learner.id)
                                   .where(Learner.external_id.in_(externals))).tuples().all())
        session.execute(insert(LearnerState), [{"learner_id": ids[e]} for e in externals])
        topic_rows = [{"learner_id": ids[r["external_id"]], "topic": t}
                      for r in rows for t in clean_topics(topics_by_student[r["student"]])]
        if topic_rows:
            session.execute(insert(LearnerTopic), topic_rows)
    return [ids[e] for e in externals]


def _named(rows) -> list[dict]:
    """The slice's learner rows with their display names."""
    return [{**row, "display_name": display_name_for(row["student"])} for row in rows]


def ensure_learners(topics_by_student: dict[int, set[str]]) -> tuple[dict[int, int], int]:
    """Create the learners of OULAD students that do not exist yet.

    ``topics_by_student`` maps an OULAD ``id_student`` to its module codes
    (the learner's topics). Students whose external id ``oulad:<id>`` already
    exists are left as they are. Returns ``(learner id by student id, number
    created)``.
    """
    existing, taken = _existing()
    missing = [s for s in sorted(topics_by_student) if f"{EXTERNAL_ID_PREFIX}{s}" not in existing]
    tz = platform_timezone_name()
    rows = []
    for student in missing:
        username, n = f"{USERNAME_PREFIX}{student}", 2
        while username.lower() in taken:
            username, n = f"{USERNAME_PREFIX}{student}_{n}", n + 1
        taken.add(username.lower())
        rows.append(dict(
            student=student, username=username, display_name=None, email=None,
            password_hash=None, timezone=tz, external_id=f"{EXTERNAL_ID_PREFIX}{student}", is_learner=True,
            is_active_account=True, share_activities=True, share_tier_upgrades=True, share_profile=True,
            notification_prefs={}, created_at=utcnow(),
        ))
    if rows:
        # Display names (Faker) are made per slice in the slicer's pause, not all before the first write.
        ids = WriteSlicer(LEARNER_SLICE).run(rows, lambda part: _insert(part, topics_by_student), prepare=_named)
        existing.update({r["external_id"]: lid for r, lid in zip(rows, ids, strict=True)})
    return {s: existing[f"{EXTERNAL_ID_PREFIX}{s}"] for s in topics_by_student}, len(missing)
