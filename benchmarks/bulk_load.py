"""Bulk-load a realistic Thrive community into PostgreSQL with COPY (benchmark fixture data, §15).

:func:`bulk_load` fills a *migrated and seeded* PostgreSQL database (rules,
tiers and levels present, no learners yet) with:

- ``learners`` (one shared scrypt password hash, Faker names, a mix of IANA
  time zones, privacy switches mostly on) and their ``learner_topics``;
- ``ledger_entries`` spread over the last ``weeks`` weeks: every active local
  day starts with a ``daily_login``; the other entries are drawn from the §4.2
  activity types (quizzes with topic/difficulty/score, projects, comments,
  cheers, battles, events, side quests, weekly challenges, …) with amounts from
  the real :func:`thrive.services.points.compute_points`, daily/weekly/ever
  caps applied exactly as ``award()`` does (an entry over a cap is written with
  0 points and ``capped`` true), ``onboarding_completed``/``profile_completed``
  once, and ``streak_bonus`` entries (5 × min(streak, 100)) the night after
  each streak day — activity is heavy-tailed (a few very active learners, many
  occasional ones) and written in time order, so ledger ids grow with time;
- each ledger entry's ``payload_hash`` and ``result`` exactly as ``award()``
  writes them (the learner's state folded entry by entry with the real
  :func:`thrive.services.points.apply_entry_to_state`), so the app replaying a
  loaded event key — e.g. today's ``daily_login`` — gets a clean duplicate;
- ``learner_states`` consistent with the ledger: totals, weekly points, peak,
  tier, level, last award/active day and lifetime counters computed in SQL
  from the ledger; streaks (current, longest, grace days, through) from the
  same Python fold;
- ``progression_events`` (every tier-up and level-up, found in SQL with a
  running sum over each learner's ledger), their ``notifications``
  (older ones read) and ``celebrations`` (already shown);
- ``follows`` (about ``follows_mean`` per learner) and ``cheers`` (recent
  ``reaction_given`` entries cheering other learners' shared entries).

The sizes are exact: ``learners`` learners and ``entries`` ledger entries.
``flask thrive verify`` finds no drift on the result (run this module with
``--verify`` on a small size to check).

Usage as a script (a throw-away database, dropped afterwards unless --keep)::

    .venv/bin/python benchmarks/bulk_load.py --learners 2000 --entries 40000 --verify
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402  (puts the repository root on sys.path)

from thrive.services.points.award import (  # noqa: E402
    LIFETIME_COUNTERS,
    _canonical_hash,
    apply_entry_to_state,
    compute_points,
)
from thrive.services.points.registry import Registry, RuleSnapshot, TierSnapshot  # noqa: E402
from thrive.services.progression.streaks import StreakState, record_active_day  # noqa: E402
from thrive.timeutil import week_label  # noqa: E402

#: Password of every bulk-loaded learner (one scrypt hash shared by all rows).
BENCH_PASSWORD = "bench-password"

TOPICS = [
    "Prompt Engineering", "Python", "Data Analysis", "Machine Learning", "Web Design", "Statistics",
    "SQL", "Cloud Computing", "Cybersecurity", "UX Research", "Creative Writing", "Project Management",
    "Public Speaking", "Digital Marketing", "Linear Algebra", "Spanish",
]

#: (IANA zone, weight): where the learners live.
TIMEZONES = [
    ("UTC", 30), ("Europe/London", 15), ("Europe/Berlin", 12), ("America/New_York", 12),
    ("America/Los_Angeles", 6), ("America/Sao_Paulo", 5), ("Africa/Lagos", 5), ("Asia/Kolkata", 8),
    ("Asia/Tokyo", 4), ("Australia/Sydney", 3),
]

#: activity type → relative frequency among a day's entries after the daily login.
ACTIVITY_MIX = {
    "quiz_completed": 28, "comment_posted": 18, "reaction_given": 14, "project_updated": 8,
    "feedback_given": 6, "project_created": 5, "project_published": 4, "battle_participated": 4,
    "event_attended": 3, "scavenger_hunt_completed": 2, "battle_won": 1.5, "side_quest_completed": 1.5,
    "weekly_challenge_completed": 1, "achievement_earned": 0.5, "referral_converted": 0.3, "special_event": 0.05,
}

DIFFICULTIES = ["beginner", "intermediate", "advanced"]


@dataclass(frozen=True)
class BulkSpec:
    """What to load. Counts are exact; rates are fractions 0–1; ``seed`` makes the data reproducible."""

    learners: int = 100_000
    entries: int = 2_000_000
    weeks: int = 8
    follows_mean: float = 5.0
    share_activities: float = 0.9
    share_tier_upgrades: float = 0.92
    share_profile: float = 0.95
    platform_timezone: str = "UTC"
    seed: int = 20261121
    password: str = BENCH_PASSWORD


@dataclass
class LoadReport:
    """Row counts per table and seconds per phase; ``now`` is the UTC instant the data ends at."""

    now: datetime
    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def total_seconds(self) -> float:
        return sum(self.seconds.values())


@dataclass
class _Plan:
    """One learner's activity: sorted local-day indices (0 = oldest) and extra entries per day."""

    tz: str
    days: list[int]
    extras: list[int]
    bonus_days: list[int]  # days whose night brings a streak bonus (awarded early the next day)
    profile: bool


def _load_rules(conn) -> dict[str, RuleSnapshot]:
    rows = conn.execute(
        "SELECT activity_type, label, category, base_points, difficulty_points, perfect_bonus_percent, "
        "max_per_day, max_per_week, max_ever, enabled, allow_custom_points, min_points, max_points, "
        "allow_negative, requires_description FROM point_rules"
    ).fetchall()
    if not rows:
        raise RuntimeError("point_rules is empty: migrate and seed the database first (flask thrive seed)")
    return {r[0]: RuleSnapshot(*r) for r in rows}


def _custom_points(activity_type: str, rng: random.Random) -> int | None:
    if activity_type == "achievement_earned":
        return rng.choice([25, 50, 75, 100])
    if activity_type == "special_event":
        return rng.choice([100, 150, 250, 500])
    if activity_type == "weekly_challenge_completed":
        return None
    return None


class _Timeline:
    """Local-day boundaries (UTC instants) per time zone for day indices 0..days-1 ending today."""

    def __init__(self, now: datetime, days: int, zones: list[str]):
        self.now = now
        self.days = days
        self.start: dict[str, list[datetime]] = {}
        self.dates: dict[str, list[date]] = {}
        for name in zones:
            tz = ZoneInfo(name)
            today = now.astimezone(tz).date()
            dates = [today - timedelta(days=days - 1 - i) for i in range(days + 1)]
            self.dates[name] = dates
            self.start[name] = [datetime.combine(d, dtime(0), tzinfo=tz).astimezone(UTC) for d in dates]

    def span(self, tz: str, day: int) -> tuple[datetime, float]:
        """(UTC start, usable seconds) of local day ``day``; today is cut at ``now``."""
        start = self.start[tz][day]
        end = min(self.start[tz][day + 1], self.now)
        return start, max((end - start).total_seconds(), 0.0)


def _plan(spec: BulkSpec, rng: random.Random, timeline: _Timeline, zones: list[str],
          weights: list[float]) -> list[_Plan]:
    """Choose active days and per-day entry counts so the ledger has exactly ``spec.entries`` rows."""
    n_days = timeline.days
    plans: list[_Plan] = []
    intensity: list[float] = []
    fixed = 0
    for _ in range(spec.learners):
        tz = rng.choices(zones, weights)[0]
        w = rng.lognormvariate(0.0, 1.0)
        # active days: heavy-tailed (median ≈ 3, mean ≈ 6, the most active every day of the window)
        d = max(1, min(n_days, int(round(w * 3.5))))
        span = min(n_days, max(d, int(d * rng.uniform(1.0, 2.5))))
        recent = rng.random() < 0.7  # most learners are still around; some drifted away
        start = n_days - span if recent else rng.randint(0, n_days - span)
        days = sorted(rng.sample(range(start, start + span), d))
        _start, usable_today = timeline.span(tz, n_days - 1)
        if days[-1] == n_days - 1 and usable_today < 120:  # local "today" has barely begun
            days = days[:-1] or [n_days - 2]
            if days[-1] != n_days - 2 and len(days) < d:
                days.append(n_days - 2)
        # a streak bonus for each day that leaves a streak of 2+ days, written early next morning
        # (00:05–01:00 local) when that morning has come
        bonus_days = []
        state = StreakState()
        for day in days:
            state = record_active_day(state, timeline.dates[tz][day])
            if state.current >= 2 and (day + 1 < n_days - 1 or (day + 1 == n_days - 1 and usable_today >= 3600)):
                bonus_days.append(day)
        profile = rng.random() < 0.5
        fixed += len(days) + 1 + int(profile) + len(bonus_days)  # logins + onboarding (+ profile) + bonuses
        plans.append(_Plan(tz, days, [0] * len(days), bonus_days, profile))
        intensity.append(w * len(days))
    extras_total = spec.entries - fixed
    if extras_total < 0:
        raise ValueError(f"{spec.entries:,} entries are too few for {spec.learners:,} learners "
                         f"({fixed:,} logins/onboarding/bonus entries alone); ask for more entries")
    scale = extras_total / sum(intensity)
    assigned = 0
    for plan, share in zip(plans, intensity):
        k = int(share * scale)
        for _ in range(k):
            plan.extras[rng.randrange(len(plan.days))] += 1
        assigned += k
    # the remainder, one by one, to learners drawn by intensity
    for plan in rng.choices(plans, intensity, k=extras_total - assigned):
        plan.extras[rng.randrange(len(plan.days))] += 1
    return plans


#: Tables bulk_load writes; their secondary indexes and constraints are rebuilt once at the end.
LOADED_TABLES = ("learners", "learner_topics", "ledger_entries", "learner_states", "progression_events",
                 "notifications", "celebrations", "follows", "cheers")


def _drop_secondary(cur, table: str) -> list[str]:
    """Drop ``table``'s unique/foreign-key constraints and plain indexes (not its primary key).

    Returns the statements that recreate them. Building an index once over
    loaded rows is much faster than maintaining it row by row during COPY —
    the usual bulk-load practice; recreating a unique constraint also proves
    the loaded data unique.
    """
    constraints = cur.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype IN ('u', 'f') ORDER BY contype DESC, conname", (table,)
    ).fetchall()
    indexes = cur.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = %s "
        "AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)", (table, table)
    ).fetchall()
    recreate = [f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}' for name, definition in constraints]
    recreate += [definition for _name, definition in indexes]
    for name, _definition in constraints:
        cur.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
    for name, _definition in indexes:
        cur.execute(f'DROP INDEX "{name}"')
    return recreate


def _copy_rows(cur, sql: str, rows) -> int:
    n = 0
    with cur.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)
            n += 1
    return n


def bulk_load(dsn: str, spec: BulkSpec = BulkSpec(), *, now: datetime | None = None,
              log: Callable[[str], None] = print) -> LoadReport:
    """Fill the empty, migrated and seeded PostgreSQL database at ``dsn`` (a libpq URL) as described above.

    ``now`` (UTC instant, default the clock) is where the data ends: the last
    ``spec.weeks`` weeks of local days up to it. Raises ``RuntimeError`` when
    the database has no rules/tiers (not seeded) or already has learners, and
    ``ValueError`` when ``spec.entries`` is too small for ``spec.learners``.
    Everything is written in one transaction; VACUUM ANALYZE runs at the end.
    """
    import psycopg
    from werkzeug.security import generate_password_hash

    now = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    rng = random.Random(spec.seed)
    report = LoadReport(now=now)
    zones = [z for z, _w in TIMEZONES]
    zone_weights = [w for _z, w in TIMEZONES]
    n_days = spec.weeks * 7
    timeline = _Timeline(now, n_days, zones)
    platform_tz = ZoneInfo(spec.platform_timezone)

    def phase(name: str, started: float) -> None:
        report.seconds[name] = time.perf_counter() - started
        log(f"  {name}: {report.seconds[name]:.1f} s")

    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        rules = _load_rules(conn)
        tiers = tuple(TierSnapshot(*r) for r in conn.execute(
            "SELECT key, name, threshold, emoji, colour, tagline FROM tiers ORDER BY threshold"))
        if not tiers:
            raise RuntimeError("tiers are empty: seed the database first (flask thrive seed)")
        registry = Registry(rules, tiers, tuple(r[0] for r in conn.execute(
            "SELECT threshold FROM levels ORDER BY level")))
        if conn.execute("SELECT count(*) FROM learners").fetchone()[0]:
            raise RuntimeError("the database already has learners; bulk_load needs an empty one")
        cur.execute("SET LOCAL synchronous_commit = off")
        cur.execute("SET LOCAL maintenance_work_mem = '512MB'")
        t0 = time.perf_counter()
        recreate = [sql for table in LOADED_TABLES for sql in _drop_secondary(cur, table)]
        phase("drop secondary indexes and constraints", t0)

        # ---- plan ------------------------------------------------------------------
        t0 = time.perf_counter()
        plans = _plan(spec, rng, timeline, zones, zone_weights)
        phase("plan", t0)

        # ---- learners, topics --------------------------------------------------------
        t0 = time.perf_counter()
        from faker import Faker

        fake = Faker(["en_GB", "en_US", "es_ES", "de_DE", "fr_FR"])
        fake.seed_instance(spec.seed)
        password_hash = generate_password_hash(spec.password, method="scrypt")
        first_id = 1
        shares: list[tuple[bool, bool, bool]] = []
        learner_topics: list[list[str]] = []
        oldest = now - timedelta(days=n_days + 21)

        def learner_rows():
            for i, plan in enumerate(plans):
                lid = first_id + i
                share = (rng.random() < spec.share_activities, rng.random() < spec.share_tier_upgrades,
                         rng.random() < spec.share_profile)
                shares.append(share)
                learner_topics.append(rng.sample(TOPICS, rng.randint(1, 3)))
                first_day = timeline.start[plan.tz][plan.days[0]]
                created = oldest + (first_day - oldest) * rng.random()
                name = fake.name()
                yield (lid, f"learner{lid:06d}", name[:100], f"learner{lid:06d}@example.org", password_hash,
                       plan.tz, f"ext-{lid}", False, True, share[0], share[1], share[2], "{}", created)

        report.counts["learners"] = _copy_rows(
            cur, "COPY learners (id, username, display_name, email, password_hash, timezone, external_id, is_admin, "
                 "is_active_account, share_activities, share_tier_upgrades, share_profile, notification_prefs, "
                 "created_at) FROM STDIN", learner_rows())
        report.counts["learner_topics"] = _copy_rows(
            cur, "COPY learner_topics (learner_id, topic) FROM STDIN",
            ((first_id + i, t) for i, topics in enumerate(learner_topics) for t in topics))
        phase("learners", t0)

        # ---- ledger, written day by day in time order ------------------------------
        t0 = time.perf_counter()
        by_day: dict[int, list[tuple[int, int]]] = defaultdict(list)  # day → [(learner index, position in plan)]
        bonus_by_day: dict[int, list[int]] = defaultdict(list)  # day the bonus is written → [learner index]
        for i, plan in enumerate(plans):
            for pos, day in enumerate(plan.days):
                by_day[day].append((i, pos))
            for day in plan.bonus_days:
                bonus_by_day[day + 1].append(i)
        # each learner's derived state after every entry, folded with award()'s own apply_entry_to_state,
        # gives the ``result`` column award() stores (a replayed event key answers as a duplicate with it)
        states = [SimpleNamespace(
            total_points=0, weekly_points=0, weekly_week=None, peak_points=0, tier_key=tiers[0].key, level=1,
            current_streak=0, longest_streak=0, streak_through=None, grace_days=0, last_active_date=None,
            last_award_at=None, quizzes_completed=0, projects_created=0, comments_posted=0, side_quests_completed=0,
        ) for _ in plans]
        ever: set[tuple[int, str]] = set()
        weekly: dict[tuple[int, str, str], int] = defaultdict(int)
        activity_types = list(ACTIVITY_MIX)
        activity_weights = [ACTIVITY_MIX[a] for a in activity_types]
        week_cache: dict[date, str] = {}
        next_id = 1
        recent_targets: list[tuple[int, int]] = []  # (entry id, learner index) shared, uncapped, visible
        cheers: list[tuple] = []
        cheered: set[tuple[int, int]] = set()
        cheer_from = now - timedelta(days=7)
        feed_types = {"quiz_completed", "project_created", "project_published", "side_quest_completed",
                      "battle_won", "weekly_challenge_completed", "scavenger_hunt_completed", "achievement_earned",
                      "event_attended"}

        def platform_week_of(instant: datetime) -> str:
            d = instant.astimezone(platform_tz).date()
            label = week_cache.get(d)
            if label is None:
                label = week_cache[d] = week_label(d)
            return label

        def ledger_rows():
            nonlocal next_id, recent_targets
            for day in range(n_days):
                rows = []  # (occurred_at, learner index, activity_type, metadata, points_override, event_key, local)
                for i in bonus_by_day.get(day, ()):
                    plan = plans[i]
                    start, usable = timeline.span(plan.tz, day)
                    at = start + timedelta(seconds=rng.uniform(300, 3600))
                    rows.append((at, i, "streak_bonus", None, None,
                                 f"streak:{first_id + i}:{timeline.dates[plan.tz][day - 1].isoformat()}", day))
                for i, pos in by_day.get(day, ()):
                    plan = plans[i]
                    start, usable = timeline.span(plan.tz, day)
                    n = 1 + plan.extras[pos]
                    offsets = sorted(rng.uniform(0, usable) for _ in range(n))
                    local = timeline.dates[plan.tz][day]
                    lid = first_id + i
                    rows.append((start + timedelta(seconds=offsets[0]), i, "daily_login", None, None,
                                 f"daily_login:{lid}:{local.isoformat()}", day))
                    if pos == 0:
                        at = start + timedelta(seconds=offsets[0] * 0.5)
                        rows.append((at, i, "onboarding_completed", None, None, f"onboarding:{lid}", day))
                        if plan.profile:
                            rows.append((at + timedelta(seconds=1), i, "profile_completed", None, None,
                                         f"profile:{lid}", day))
                    for k, off in enumerate(offsets[1:], start=1):
                        a = rng.choices(activity_types, activity_weights)[0]
                        meta = None
                        if a == "quiz_completed":
                            meta = {"topic": rng.choice(learner_topics[i] if rng.random() < .7 else TOPICS),
                                    "difficulty": rng.choice(DIFFICULTIES),
                                    "score": rng.choice([100, 100, 95, 90, 80, 70, 60, 50])}
                        elif a in ("project_created", "project_updated", "project_published"):
                            meta = {"project": f"p{lid}-{rng.randint(1, 5)}"}
                        elif a in ("comment_posted", "feedback_given", "side_quest_completed",
                                   "scavenger_hunt_completed"):
                            meta = {"topic": rng.choice(learner_topics[i])}
                            if a == "side_quest_completed":
                                meta["difficulty"] = rng.choice(DIFFICULTIES)
                        rows.append((start + timedelta(seconds=off), i, a, meta, _custom_points(a, rng),
                                     f"bench:{lid}:{day}:{k}", day))
                rows.sort(key=lambda r: r[0])
                day_counts: dict[tuple[int, str, date], int] = defaultdict(int)
                todays_targets: list[tuple[int, int]] = []
                for at, i, a, meta, custom, key, d in rows:
                    plan = plans[i]
                    lid = first_id + i
                    rule = rules[a]
                    local = timeline.dates[plan.tz][d]
                    week = platform_week_of(at)
                    if a == "streak_bonus":
                        streak_len = _streak_at(plan, timeline, d - 1)
                        custom = 5 * min(streak_len, 100)
                        meta = {"streak": streak_len}
                    if a == "reaction_given" and recent_targets and at >= cheer_from:
                        target_id, target_i = recent_targets[rng.randrange(len(recent_targets))]
                        if target_i != i and (lid, target_id) not in cheered:
                            # as services.community.cheer() writes it (first cheer of the pair: full points)
                            meta = {"cheer": {"kind": "entry", "id": target_id, "recipient": first_id + target_i}}
                            key = f"cheer:{lid}:entry:{target_id}"
                            custom = 2
                    amount = compute_points(rule, meta, custom)
                    capped = False
                    if amount > 0 and (
                        (rule.max_per_day is not None and day_counts[(i, a, local)] >= rule.max_per_day)
                        or (rule.max_per_week is not None and weekly[(i, a, week)] >= rule.max_per_week)
                        or (rule.max_ever is not None and (i, a) in ever)
                    ):
                        capped = True
                    points = 0 if capped else amount
                    if not capped:
                        day_counts[(i, a, local)] += 1
                        weekly[(i, a, week)] += 1
                        if rule.max_ever is not None:
                            ever.add((i, a))
                    state = states[i]
                    tiers_gained, levels_gained = apply_entry_to_state(
                        state, registry, activity_type=a, category=rule.category, points=points, local_day=local,
                        week=week, occurred_at=at)
                    entry_id = next_id
                    next_id += 1
                    if a == "reaction_given" and meta and not capped:
                        target_id = meta["cheer"]["id"]
                        cheered.add((lid, target_id))
                        cheers.append((lid, meta["cheer"]["recipient"], "entry", target_id, points, at))
                    if points > 0 and a in feed_types and shares[i][0]:
                        todays_targets.append((entry_id, i))
                    # the payload fingerprint award() computes, so a replay of the same event through the
                    # app is a clean duplicate (daily_login and onboarding are awarded without a date)
                    undated = a in ("daily_login", "onboarding_completed", "profile_completed")
                    payload_hash = _canonical_hash(a, None if undated else at, meta, None, custom)
                    result = {
                        "points_awarded": points, "capped": capped, "total_points": state.total_points,
                        "weekly_points": state.weekly_points, "tier": state.tier_key, "level": state.level,
                        "tier_upgraded": bool(tiers_gained), "level_upgraded": bool(levels_gained),
                        "activity_type": a, "event_key": key, "occurred_at": at.isoformat(),
                        "current_streak": state.current_streak, "levels_gained": levels_gained,
                        "tiers_gained": tiers_gained,
                    }
                    yield (entry_id, lid, a, rule.category, points, capped, key, payload_hash, None,
                           json.dumps(meta, separators=(",", ":")) if meta is not None else None,
                           at, local, week, json.dumps(result, separators=(",", ":")), at)
                if todays_targets:
                    recent_targets = (recent_targets + todays_targets)[-50_000:]

        report.counts["ledger_entries"] = _copy_rows(
            cur,
            "COPY ledger_entries (id, learner_id, activity_type, category, points, capped, event_key, payload_hash, "
                 "description, metadata, occurred_at, local_date, week, result, created_at) FROM STDIN",
            ledger_rows())
        phase("ledger (COPY)", t0)
        if report.counts["ledger_entries"] != spec.entries:
            log(f"  note: {report.counts['ledger_entries']:,} entries written (asked {spec.entries:,})")

        # ---- derived state -----------------------------------------------------------
        t0 = time.perf_counter()
        cur.execute("CREATE TEMP TABLE bench_streaks (learner_id int PRIMARY KEY, current_streak int, "
                    "longest_streak int, streak_through date, grace_days int) ON COMMIT DROP")
        _copy_rows(cur, "COPY bench_streaks FROM STDIN",
                   ((first_id + i, s.current_streak, s.longest_streak, s.streak_through, s.grace_days)
                    for i, s in enumerate(states)))
        counters = ", ".join(
            f"count(*) FILTER (WHERE activity_type = '{a}') AS {c}" for a, c in LIFETIME_COUNTERS.items()
        )
        cur.execute("""
            CREATE TEMP TABLE bench_levels ON COMMIT DROP AS
            SELECT level, threshold FROM levels
            UNION ALL
            SELECT m.level + g, m.threshold + g * 10000
            FROM (SELECT level, threshold FROM levels ORDER BY level DESC LIMIT 1) m,
                 generate_series(1, 200) g""")
        cur.execute("CREATE INDEX ON bench_levels (threshold)")
        cur.execute(f"""
            INSERT INTO learner_states (learner_id, total_points, weekly_points, weekly_week, peak_points, tier_key,
                level, current_streak, longest_streak, streak_through, grace_days, last_active_date, last_award_at,
                quizzes_completed, projects_created, comments_posted, side_quests_completed)
            WITH agg AS (
                SELECT learner_id, sum(points) AS total, max(week) AS last_week,
                       max(occurred_at) FILTER (WHERE points > 0) AS last_award,
                       max(local_date) FILTER (WHERE points > 0 AND category IS NOT NULL
                                               AND category <> 'consistency') AS last_active,
                       {counters}
                FROM ledger_entries GROUP BY learner_id
            ), wk AS (
                SELECT e.learner_id, sum(e.points) AS weekly
                FROM ledger_entries e JOIN agg a ON a.learner_id = e.learner_id AND e.week = a.last_week
                GROUP BY e.learner_id
            )
            SELECT l.id, coalesce(a.total, 0), coalesce(wk.weekly, 0), a.last_week, coalesce(a.total, 0),
                   (SELECT t.key FROM tiers t WHERE t.threshold <= coalesce(a.total, 0)
                    ORDER BY t.threshold DESC LIMIT 1),
                   (SELECT max(b.level) FROM bench_levels b WHERE b.threshold <= coalesce(a.total, 0)),
                   coalesce(s.current_streak, 0), coalesce(s.longest_streak, 0), s.streak_through,
                   coalesce(s.grace_days, 0), a.last_active, a.last_award,
                   coalesce(a.quizzes_completed, 0), coalesce(a.projects_created, 0),
                   coalesce(a.comments_posted, 0), coalesce(a.side_quests_completed, 0)
            FROM learners l LEFT JOIN agg a ON a.learner_id = l.id LEFT JOIN wk ON wk.learner_id = l.id
            LEFT JOIN bench_streaks s ON s.learner_id = l.id
        """)
        report.counts["learner_states"] = cur.rowcount
        phase("learner_states (SQL)", t0)

        t0 = time.perf_counter()
        cur.execute("""
            CREATE TEMP TABLE bench_running ON COMMIT DROP AS
            SELECT id, learner_id, occurred_at, points,
                   sum(points) OVER (PARTITION BY learner_id ORDER BY id) AS after
            FROM ledger_entries""")
        cur.execute("""
            INSERT INTO progression_events (learner_id, ledger_entry_id, kind, from_value, to_value, occurred_at)
            SELECT learner_id, ledger_entry_id, kind, from_value, to_value, occurred_at FROM (
                SELECT r.learner_id, r.id AS ledger_entry_id, 'tier_up' AS kind, t.prev_key AS from_value,
                       t.key AS to_value, r.occurred_at, 0 AS k, t.threshold AS ord
                FROM bench_running r
                JOIN (SELECT key, threshold, lag(key) OVER (ORDER BY threshold) AS prev_key FROM tiers) t
                  ON t.prev_key IS NOT NULL AND r.after >= t.threshold AND r.after - r.points < t.threshold
                UNION ALL
                SELECT r.learner_id, r.id, 'level_up', (b.level - 1)::text, b.level::text, r.occurred_at, 1, b.level
                FROM bench_running r
                JOIN bench_levels b ON b.level > 1 AND r.after >= b.threshold AND r.after - r.points < b.threshold
            ) x ORDER BY occurred_at, ledger_entry_id, k, ord
        """)
        report.counts["progression_events"] = cur.rowcount
        # notifications like award() writes them: one per tier reached, one per award that gained levels
        cur.execute("""
            INSERT INTO notifications (learner_id, type, title, body, link, data, dedupe_key, created_at, read_at)
            SELECT p.learner_id, 'tier_up', 'You reached ' || t.name || '! ' || t.emoji, t.tagline, '/',
                   json_build_object('tier', t.key), 'tier_up:' || p.learner_id || ':' || t.key, p.occurred_at,
                   CASE WHEN p.occurred_at < %(read_before)s THEN p.occurred_at + interval '3 hours' END
            FROM progression_events p JOIN tiers t ON t.key = p.to_value
            WHERE p.kind = 'tier_up'
            ORDER BY p.id
        """, {"read_before": now - timedelta(days=2)})
        notes = cur.rowcount
        cur.execute("""
            INSERT INTO notifications (learner_id, type, title, body, link, data, dedupe_key, created_at, read_at)
            SELECT learner_id, 'level_up',
                   CASE WHEN n = 1 THEN 'Level ' || top || '!' ELSE 'Level ' || top || '! Up ' || n || ' levels' END,
                   NULL, '/', json_build_object('levels', levels), 'level_up:' || learner_id || ':' || top, at,
                   CASE WHEN at < %(read_before)s THEN at + interval '3 hours' END
            FROM (SELECT learner_id, ledger_entry_id, max(to_value::int) AS top, count(*) AS n,
                         json_agg(to_value::int ORDER BY to_value::int) AS levels, min(occurred_at) AS at
                  FROM progression_events WHERE kind = 'level_up'
                  GROUP BY learner_id, ledger_entry_id) g
            ORDER BY at
        """, {"read_before": now - timedelta(days=2)})
        report.counts["notifications"] = notes + cur.rowcount
        cur.execute("""
            INSERT INTO celebrations (learner_id, kind, title, body, data, dedupe_key, created_at, shown_at)
            SELECT learner_id, type, title, body, data, dedupe_key, created_at, created_at + interval '1 minute'
            FROM notifications n
            WHERE type = 'tier_up' OR NOT EXISTS (
                SELECT 1 FROM progression_events p
                WHERE p.kind = 'tier_up' AND p.learner_id = n.learner_id AND p.occurred_at = n.created_at)
            ORDER BY id
        """)
        report.counts["celebrations"] = cur.rowcount
        phase("progression events, notifications, celebrations (SQL)", t0)

        # ---- follows, cheers -----------------------------------------------------------
        t0 = time.perf_counter()

        def follow_rows():
            n = spec.learners
            for i in range(n):
                k = min(int(rng.expovariate(1.0 / spec.follows_mean)), 200, n - 1)
                targets = set()
                while len(targets) < k:
                    j = rng.randrange(n)
                    if j != i:
                        targets.add(j)
                for j in targets:
                    yield (first_id + i, first_id + j, now - timedelta(seconds=rng.uniform(0, n_days * 86400)))

        report.counts["follows"] = _copy_rows(
            cur, "COPY follows (follower_id, followed_id, created_at) FROM STDIN", follow_rows())
        report.counts["cheers"] = _copy_rows(
            cur, "COPY cheers (cheerer_id, recipient_id, target_kind, target_id, points_awarded, created_at) "
                 "FROM STDIN", cheers)
        for table in ("learners", "ledger_entries", "progression_events", "notifications", "celebrations", "cheers"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)")
        phase("follows, cheers", t0)

        t0 = time.perf_counter()
        for sql in recreate:
            cur.execute(sql)
        phase(f"recreate {len(recreate)} indexes and constraints", t0)
        conn.commit()

    t0 = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
    phase("VACUUM ANALYZE", t0)
    return report


def _streak_at(plan: _Plan, timeline: _Timeline, day: int) -> int:
    """The learner's current streak (days) right after local day ``day`` (the bonus amount's basis)."""
    state = StreakState()
    for d in plan.days:
        if d > day:
            break
        state = record_active_day(state, timeline.dates[plan.tz][d])
    return state.current


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=BulkSpec.learners)
    parser.add_argument("--entries", type=int, default=BulkSpec.entries)
    parser.add_argument("--weeks", type=int, default=BulkSpec.weeks)
    parser.add_argument("--seed", type=int, default=BulkSpec.seed)
    parser.add_argument("--keep", action="store_true", help="keep the database (prints its URL)")
    parser.add_argument("--verify", action="store_true",
                        help="replay the ledger with thrive.services.points.verify and report any drift")
    args = parser.parse_args(argv)
    if not common.pg_available():
        print(f"PostgreSQL is not reachable at {common.pg_server_url()} (set {common.PG_ENV})", file=sys.stderr)
        return 2
    spec = BulkSpec(learners=args.learners, entries=args.entries, weeks=args.weeks, seed=args.seed)
    with common.fresh_database("postgresql", keep=args.keep) as uri:
        print(f"Loading {spec.learners:,} learners and {spec.entries:,} ledger entries into {uri.rsplit('/', 1)[-1]}")
        report = bulk_load(common.libpq_dsn(uri), spec)
        common.print_table(["table", "rows"], sorted(report.counts.items()), title="Loaded")
        print(f"\ntotal {report.total_seconds():.1f} s")
        if args.verify:
            from thrive.extensions import db
            from thrive.services.points.verify import verify

            app = common.bench_app(uri)
            with app.app_context():
                t0 = time.perf_counter()
                drifts = verify()
                print(f"verify: {len(drifts)} drift(s) in {time.perf_counter() - t0:.1f} s")
                for d in drifts[:20]:
                    print(f"  {d}")
                # replaying loaded events through award() must answer duplicates with the stored result
                from sqlalchemy import func, select

                from thrive.models import LedgerEntry
                from thrive.services.points.award import award

                sample = db.session.scalars(select(LedgerEntry).order_by(func.random()).limit(200)).all()
                db.session.commit()
                bad = 0
                for e in sample:
                    undated = e.activity_type in ("daily_login", "onboarding_completed", "profile_completed")
                    custom = e.points if e.activity_type in ("streak_bonus", "achievement_earned", "special_event") \
                        or (e.activity_type == "reaction_given" and e.meta and "cheer" in e.meta) else None
                    r = award(e.learner_id, e.activity_type, event_key=e.event_key,
                              occurred_at=None if undated else e.occurred_at, metadata=e.meta, points=custom)
                    if not (r.duplicate and r.event_id == e.id and r.points_awarded == e.points):
                        bad += 1
                print(f"replayed {len(sample)} loaded events through award(): {bad} not a clean duplicate")
                drifts = drifts or ([None] if bad else [])
                db.session.remove()
                db.engine.dispose()
            if drifts:
                return 1
        if args.keep:
            print(f"kept: {uri}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
