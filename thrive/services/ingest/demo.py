"""A synthetic, seeded demo community (``flask thrive demo``, §14).

So that a fresh clone shows a living app without any download, this builds:

- the admin account ``admin`` / ``thrive-admin`` and the learner ``demo`` /
  ``thrive-demo`` (printed by ``make run``);
- N learners with realistic names (Faker, seeded) from a dozen countries, in
  their countries' IANA time zones, with topics and a privacy mix (most share
  everything; some keep activities, tier-ups or the profile to themselves);
- follows (through ``follows.follow``, so people get their ``new_follower``
  notifications), preferring people with shared topics;
- several weeks of varied activity through ``award_many`` (the batch form of
  ``award()``, §4.1): onboarding, daily logins, quizzes with topics,
  difficulty and scores, projects created/updated/published, comments,
  feedback, events, battles, scavenger hunts, weekly challenges — each
  learner following a persona (regular, steady, casual, newcomer, lapsed) at
  plausible local hours of their own time zone;
- a few cheers on recent feed items (through ``community.cheer``);
- side quests and achievements in every state (``services.quests.demo``).

Everything is derived from one ``random.Random(seed)`` and Faker instances
seeded from it, relative to ``now``: the same seed and ``now`` give the same
community. Nothing here writes points except through ``award()``.
"""
from __future__ import annotations

import random
import unicodedata
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from faker import Faker
from sqlalchemy import func, select

from thrive.extensions import db
from thrive.models import Learner, LedgerEntry
from thrive.services.accounts.learners import USERNAME_RE, create_learner
from thrive.services.errors import Conflict, ThriveError, ValidationError
from thrive.services.ingest.batches import ImportSummary, award_in_batches
from thrive.services.points.award import AwardRequest, daily_login_key
from thrive.services.quests import demo as quest_demo
from thrive.timeutil import as_utc, local_date, platform_timezone_name, utcnow, zone

DEFAULT_LEARNERS = 300
DEFAULT_WEEKS = 6
DEFAULT_SEED = 2026
MAX_LEARNERS = 5000
MAX_WEEKS = 26

ADMIN_USERNAME, ADMIN_PASSWORD = "admin", "thrive-admin"
DEMO_USERNAME, DEMO_PASSWORD = "demo", "thrive-demo"

TOPICS = (
    "Python", "Data Analysis", "Machine Learning", "Prompt Engineering", "Web Development", "JavaScript",
    "SQL", "Statistics", "UX Design", "Cloud Computing", "Cybersecurity", "Data Visualisation",
    "Product Management", "Public Speaking", "Creative Writing", "Digital Marketing",
)

#: (Faker locale, IANA time zones, weight)
REGIONS = (
    ("en_US", ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"), 18),
    ("en_GB", ("Europe/London",), 9),
    ("en_IN", ("Asia/Kolkata",), 9),
    ("de_DE", ("Europe/Berlin",), 6),
    ("pt_BR", ("America/Sao_Paulo",), 6),
    ("fr_FR", ("Europe/Paris",), 5),
    ("es_MX", ("America/Mexico_City",), 4),
    ("es_ES", ("Europe/Madrid",), 4),
    ("en_NG", ("Africa/Lagos",), 4),
    ("en_CA", ("America/Toronto", "America/Vancouver"), 4),
    ("en_AU", ("Australia/Sydney", "Australia/Melbourne", "Australia/Perth"), 4),
    ("pl_PL", ("Europe/Warsaw",), 3),
    ("it_IT", ("Europe/Rome",), 3),
    ("id_ID", ("Asia/Jakarta",), 3),
    ("en_PH", ("Asia/Manila",), 3),
    ("ja_JP", ("Asia/Tokyo",), 2),
    ("tr_TR", ("Europe/Istanbul",), 2),
    ("nl_NL", ("Europe/Amsterdam",), 2),
    ("zu_ZA", ("Africa/Johannesburg",), 2),
    ("sv_SE", ("Europe/Stockholm",), 1),
    ("en_NZ", ("Pacific/Auckland",), 1),
)


@dataclass(frozen=True)
class Persona:
    """How a kind of learner behaves: chance of showing up on a day and activities per active day."""

    name: str
    day_chance: float
    activities: tuple[int, int]
    weight: int


PERSONAS = (
    Persona("regular", 0.75, (1, 3), 20),
    Persona("steady", 0.45, (1, 2), 30),
    Persona("casual", 0.18, (0, 2), 27),
    Persona("newcomer", 0.6, (1, 2), 13),
    Persona("lapsed", 0.5, (0, 2), 10),
)
_PERSONA_BY_NAME = {p.name: p for p in PERSONAS}

#: activity type → weight in an active day's mix (daily_login comes first on every active day).
ACTIVITY_MIX = (
    ("quiz_completed", 34), ("comment_posted", 22), ("feedback_given", 10), ("project_created", 7),
    ("project_updated", 8), ("project_published", 5), ("event_attended", 4), ("battle_participated", 4),
    ("scavenger_hunt_completed", 3),
)
DIFFICULTIES = (("beginner", 4), ("intermediate", 4), ("advanced", 2))
PROJECT_WORDS = ("dashboard", "tracker", "portfolio", "chatbot", "playbook", "case study", "explorer",
                 "planner", "visualiser", "toolkit")

Progress = Callable[[int], None]


@dataclass
class DemoSummary:
    """What :func:`build_demo` created; ``awards`` holds the award counts (awarded, capped…)."""

    seed: int
    weeks: int
    learners: int = 0
    follows: int = 0
    cheers: int = 0
    awards: ImportSummary = field(default_factory=ImportSummary)

    def lines(self) -> list[str]:
        """Human summary for the CLI."""
        a = self.awards
        return [
            f"Demo community (seed {self.seed}, {self.weeks} weeks of activity):",
            f"  learners:  {self.learners:,} (plus {ADMIN_USERNAME!r} and {DEMO_USERNAME!r})",
            f"  follows:   {self.follows:,}",
            f"  awards:    {a.awarded:,} awarded ({a.points:,} points), {a.capped:,} capped, "
            f"{a.rejected:,} rejected",
            f"  cheers:    {self.cheers:,}",
            f"Sign in as {ADMIN_USERNAME} / {ADMIN_PASSWORD} (admin) or {DEMO_USERNAME} / {DEMO_PASSWORD} (learner).",
        ]


@dataclass
class _Person:
    learner_id: int
    username: str
    timezone: str
    topics: list[str]
    persona: Persona
    joined: date
    chronotype: int  # typical local hour they start
    has_password: bool = False
    share_activities: bool = True
    share_profile: bool = True


def community_is_empty() -> bool:
    """True when no learner exists (``demo --if-empty`` does nothing otherwise)."""
    return db.session.scalar(select(Learner.id).limit(1)) is None


def _weighted(rng: random.Random, pairs):
    items, weights = zip(*pairs)
    return rng.choices(items, weights=weights, k=1)[0]


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in folded.lower() if c.isalnum())


def _fakers(seed: int) -> dict[str, Faker]:
    out = {}
    for locale, _zones, _weight in REGIONS:
        fake = Faker(locale)
        fake.seed_instance(zlib.crc32(f"{seed}:{locale}".encode()))
        out[locale] = fake
    return out


def _name(fake: Faker, locale: str) -> tuple[str, str]:
    if locale == "ja_JP":
        return fake.first_romanized_name(), fake.last_romanized_name()
    return fake.first_name(), fake.last_name()


def _username(rng: random.Random, first: str, last: str, taken: set[str]) -> str:
    f, s = _ascii(first) or "learner", _ascii(last) or "thrive"
    style = rng.randrange(4)
    base = [f"{f}.{s}", f"{f}{s[:1]}", f"{f}_{s}", f"{f[:1]}{s}"][style][:48]
    candidate, n = base, 2
    while candidate.lower() in taken or not USERNAME_RE.match(candidate):
        candidate = f"{base}{n if n > 2 else rng.randrange(10, 99)}"
        n += 1
    taken.add(candidate.lower())
    return candidate


def _privacy(rng: random.Random) -> dict[str, bool]:
    roll = rng.random()
    if roll < 0.74:
        return dict(share_activities=True, share_tier_upgrades=True, share_profile=True)
    if roll < 0.82:
        return dict(share_activities=False, share_tier_upgrades=True, share_profile=True)
    if roll < 0.89:
        return dict(share_activities=True, share_tier_upgrades=True, share_profile=False)
    if roll < 0.95:
        return dict(share_activities=True, share_tier_upgrades=False, share_profile=True)
    return dict(share_activities=False, share_tier_upgrades=False, share_profile=False)


def _create_people(rng: random.Random, fakers: dict[str, Faker], count: int, first_day: date,
                   today: date) -> list[_Person]:
    platform_tz = platform_timezone_name()
    people: list[_Person] = []
    create_learner(ADMIN_USERNAME, "Thrive Admin", password=ADMIN_PASSWORD, staff_role="admin", is_learner=False,
                           timezone=platform_tz, share_profile=False, share_activities=False, commit=False)
    demo = create_learner(DEMO_USERNAME, "Demo Learner", password=DEMO_PASSWORD, timezone=platform_tz,
                          topics=["Python", "Data Analysis", "Prompt Engineering"], commit=False)
    people.append(_Person(demo.id, DEMO_USERNAME, platform_tz, demo.topics, _PERSONA_BY_NAME["regular"],
                          first_day, 9, has_password=True))
    taken = {ADMIN_USERNAME, DEMO_USERNAME} | {
        u.lower() for u in db.session.scalars(select(Learner.username))
    }
    span = (today - first_day).days
    for _ in range(count):
        locale, zones, _w = _weighted(rng, [((r[0], r[1], r[2]), r[2]) for r in REGIONS])
        first, last = _name(fakers[locale], locale)
        persona = _weighted(rng, [(p, p.weight) for p in PERSONAS])
        if persona.name == "newcomer":
            joined = first_day + timedelta(days=rng.randint(max(span - 13, 0), span))
        else:
            joined = first_day + timedelta(days=min(span, int(rng.expovariate(1 / 3))))
        topics = rng.sample(TOPICS, k=rng.choice((1, 2, 2, 3, 3, 4)))
        privacy = _privacy(rng)
        learner = create_learner(
            _username(rng, first, last, taken), f"{first} {last}", timezone=rng.choice(zones), topics=topics,
            commit=False, **privacy,
        )
        people.append(_Person(learner.id, learner.username, learner.timezone, topics, persona, joined,
                              rng.choice((7, 8, 12, 13, 17, 19, 20, 21)),
                              share_activities=privacy["share_activities"],
                              share_profile=privacy["share_profile"]))
    db.session.commit()
    return people


def _instant(day: date, tz_name: str, hour: int, minute: int) -> datetime:
    local = datetime.combine(day, time(hour % 24, minute), tzinfo=zone(tz_name))
    return as_utc(local)


def _activity(rng: random.Random, person: _Person, kind: str, projects: list[str]) -> dict:
    topic = rng.choice(person.topics) if rng.random() < 0.85 else rng.choice(TOPICS)
    if kind == "quiz_completed":
        difficulty = _weighted(rng, DIFFICULTIES)
        score = 100 if rng.random() < 0.12 else max(30, min(99, int(rng.gauss(76, 14))))
        return {"topic": topic, "difficulty": difficulty, "score": score,
                "quiz": f"{topic} quiz {rng.randint(1, 40)}"}
    if kind == "project_created":
        title = f"{topic} {rng.choice(PROJECT_WORDS)}"
        projects.append(title)
        return {"topic": topic, "project": title}
    if kind in ("project_updated", "project_published"):
        title = rng.choice(projects) if projects else f"{topic} {rng.choice(PROJECT_WORDS)}"
        return {"topic": topic, "project": title}
    if kind == "event_attended":
        return {"topic": topic, "event": f"{topic} live session"}
    return {"topic": topic}


def _plan_awards(rng: random.Random, people: list[_Person], first_day: date, now: datetime) -> list[AwardRequest]:
    """Every award of the demo window, in time order (instants ≤ ``now``)."""
    planned: list[tuple[datetime, int, AwardRequest]] = []
    order = 0
    for person in people:
        tz = person.timezone
        today = local_date(now, tz)
        projects: list[str] = []
        counter = 0
        days_total = (today - first_day).days
        lapse_after = first_day + timedelta(
            days=rng.randint(days_total // 3, max(days_total // 3, days_total * 2 // 3)))

        def add(kind: str, at: datetime, key: str | None = None, metadata: dict | None = None,
                person: _Person = person) -> None:   # bound now: called only within this person's loop
            nonlocal counter, order
            if at > now:
                return
            counter += 1
            order += 1
            planned.append((at, order, AwardRequest(
                person.learner_id, kind, key or f"demo:{person.username}:{counter}", at, metadata, None, None,
            )))

        start = max(person.joined, first_day)
        join_at = _instant(start, tz, person.chronotype, rng.randint(0, 30))
        add("onboarding_completed", join_at)
        if (person.persona.name == "regular" and person.username != DEMO_USERNAME
                and zlib.crc32(person.username.encode()) % 8 == 0):
            # Veterans (issue 11: the demo has Phoenix learners): points carried over from a previous term,
            # chosen by a hash of the username so the seeded random stream is unchanged.
            for n in (1, 2):
                counter += 1
                order += 1
                planned.append((join_at, order, AwardRequest(
                    person.learner_id, "special_event", f"demo:{person.username}:veteran:{n}", join_at,
                    {"topic": "Previous term"}, "Carried over from the previous term", 1000,
                )))
        if rng.random() < 0.8:
            add("profile_completed", join_at + timedelta(minutes=rng.randint(3, 40)))
        day = start
        while day <= today:
            chance = person.persona.day_chance
            if person.persona.name == "lapsed" and day > lapse_after:
                chance = 0.04
            if person.username == DEMO_USERNAME and (today - day).days <= 12:
                chance = 1.0  # the demo learner keeps a visible streak
            if day == start or rng.random() < chance:
                hour = person.chronotype + rng.choice((-1, 0, 0, 1, 2))
                at = _instant(day, tz, hour, rng.randint(0, 59))
                if not (day == today and person.has_password):  # let their first visit today award it
                    add("daily_login", at, key=daily_login_key(person.learner_id, day))
                low, high = person.persona.activities
                for _ in range(rng.randint(low, high)):
                    at += timedelta(minutes=rng.randint(4, 55))
                    kind = _weighted(rng, ACTIVITY_MIX)
                    metadata = _activity(rng, person, kind, projects)
                    add(kind, at, metadata=metadata)
                    if kind == "battle_participated" and rng.random() < 0.4:
                        add("battle_won", at + timedelta(minutes=rng.randint(2, 20)),
                            metadata={"topic": metadata["topic"]})
                if day.weekday() >= 4 and person.persona.name in ("regular", "steady") and rng.random() < 0.12:
                    add("weekly_challenge_completed", at + timedelta(minutes=rng.randint(10, 90)),
                        metadata={"topic": rng.choice(person.topics), "challenge": f"Week {day.isocalendar().week}"})
            day += timedelta(days=1)
    planned.sort(key=lambda p: (p[0], p[1]))
    return [req for _at, _o, req in planned]


def _follow_all(rng: random.Random, people: list[_Person], now: datetime) -> int:
    from thrive.services.community.follows import follow

    visible = [p for p in people if p.share_profile]
    made = 0
    for person in people:
        k = min(len(visible) - 1, int(rng.expovariate(1 / 3)) + (12 if person.username == DEMO_USERNAME else 0))
        if k <= 0:
            continue
        mine = set(person.topics)
        weights = [(4 if mine & set(o.topics) else 1) if o is not person else 0 for o in visible]
        chosen: set[int] = set()
        for _ in range(k * 3):
            if len(chosen) >= k:
                break
            other = rng.choices(visible, weights=weights, k=1)[0]
            if other is person or other.learner_id in chosen:
                continue
            chosen.add(other.learner_id)
        for other_id in sorted(chosen):
            try:
                made += follow(person.learner_id, other_id, now=now - timedelta(minutes=rng.randint(5, 20000))).created
            except ThriveError:
                continue
    demo = next((p for p in people if p.username == DEMO_USERNAME), None)
    if demo:  # a few people follow the demo learner back
        for other in rng.sample(people[1:], k=min(15, len(people) - 1)):
            try:
                when = now - timedelta(minutes=rng.randint(5, 9000))
                made += follow(other.learner_id, demo.learner_id, now=when).created
            except ThriveError:
                continue
    return made


def _cheer_some(rng: random.Random, people: list[_Person], now: datetime, wanted: int) -> int:
    from thrive.services.community.cheers import cheer

    sharing = {p.learner_id for p in people if p.share_activities}
    since = now - timedelta(days=6)
    entries = db.session.execute(
        select(LedgerEntry.id, LedgerEntry.learner_id, LedgerEntry.occurred_at)
        .where(LedgerEntry.occurred_at >= since, LedgerEntry.points > 0, LedgerEntry.capped.is_(False),
               LedgerEntry.activity_type.in_(("quiz_completed", "project_published", "project_created",
                                              "battle_won", "weekly_challenge_completed")))
        .order_by(LedgerEntry.id)
    ).all()
    db.session.commit()
    entries = [e for e in entries if e.learner_id in sharing]
    if not entries:
        return 0
    made = 0
    for _ in range(wanted):
        entry_id, author, at = rng.choice(entries)
        cheerer = rng.choice(people)
        if cheerer.learner_id == author:
            continue
        when = min(now, as_utc(at) + timedelta(minutes=rng.randint(3, 600)))
        try:
            cheer(cheerer.learner_id, "entry", entry_id, now=when)
            made += 1
        except ThriveError:
            continue
    return made


def build_demo(
    *,
    learners: int = DEFAULT_LEARNERS,
    weeks: int = DEFAULT_WEEKS,
    seed: int = DEFAULT_SEED,
    now: datetime | None = None,
    progress: Progress | None = None,
    on_total: Callable[[int], None] | None = None,
) -> DemoSummary:
    """Build the demo community in an empty database (§14).

    Args:
        learners: synthetic learners besides ``admin`` and ``demo`` (0–5,000).
        weeks: weeks of activity before ``now`` (1–26).
        seed: the random seed; the same seed and ``now`` give the same community.
        now: the current instant (tests); defaults to the clock.
        progress / on_total: progress callbacks (awards done per batch / awards planned).

    Returns a :class:`DemoSummary`.

    Raises ``ValidationError`` for out-of-range arguments and ``Conflict``
    (``not_empty``) when any learner exists already (nothing is written).
    """
    if not 0 <= learners <= MAX_LEARNERS:
        raise ValidationError(f"learners must be between 0 and {MAX_LEARNERS}")
    if not 1 <= weeks <= MAX_WEEKS:
        raise ValidationError(f"weeks must be between 1 and {MAX_WEEKS}")
    existing = db.session.scalar(select(func.count(Learner.id))) or 0
    if existing:
        raise Conflict(f"the demo needs an empty database, but {existing:,} learner(s) exist "
                       "(use --if-empty to skip quietly)", code="not_empty")
    now = as_utc(now) if now else utcnow()
    rng = random.Random(seed)
    today = local_date(now, platform_timezone_name())
    first_day = today - timedelta(days=weeks * 7 - 1)
    summary = DemoSummary(seed=seed, weeks=weeks)
    try:
        people = _create_people(rng, _fakers(seed), learners, first_day, today)
    except ThriveError:
        db.session.rollback()
        raise
    summary.learners = learners
    summary.follows = _follow_all(rng, people, now)
    quest_demo.before_awards(people, _instant(first_day, platform_timezone_name(), 0, 0), now, seed, DEMO_USERNAME)
    requests = _plan_awards(rng, people, first_day, now)
    if on_total:
        on_total(len(requests))
    award_in_batches([(i + 1, r) for i, r in enumerate(requests)], summary.awards, batch_size=500, now=now,
                     progress=progress)
    summary.awards.rows_read = len(requests)
    summary.cheers = _cheer_some(rng, people, now, wanted=max(10, learners // 2))
    quest_demo.after_awards(people, now, DEMO_USERNAME)  # achievements backfilled from the ledger (§10)
    _date_notifications()
    return summary


def _date_notifications() -> None:
    """Date tier-up and level-up notifications at the award that caused them (issue 11: the demo's
    notifications are spread over its weeks, not all stamped with the moment the demo was built)."""
    from thrive.models import Notification, ProgressionEvent

    when = {(e.learner_id, e.kind, e.to_value): e.occurred_at for e in db.session.scalars(
        select(ProgressionEvent).where(ProgressionEvent.kind.in_(("tier_up", "level_up"))))}
    for note in db.session.scalars(select(Notification).where(Notification.type.in_(("tier_up", "level_up")))):
        data = note.data or {}
        value = data.get("tier") if note.type == "tier_up" else str(max(data.get("levels") or [0]))
        at = when.get((note.learner_id, note.type, value))
        if at is not None:
            note.created_at = at
    db.session.commit()
