"""The demo community's activity (§4.1, §14): every award of the demo window, planned in time order.

Owns what the demo's learners do: each person follows their persona at
plausible local hours of their own time zone — onboarding, daily logins,
quizzes with topics, difficulty and scores, projects created/updated/published,
comments, feedback, events, battles, scavenger hunts, weekly challenges, and
a few veterans' points carried over from a previous term. :func:`_plan_awards`
only plans; the awards are made through ``award_many`` by the builder.
"""
from __future__ import annotations

import random
import zlib
from datetime import date, datetime, time, timedelta

from thrive.services.points.award import AwardRequest, daily_login_key
from thrive.timeutil import as_utc, local_date, zone

from .people import DEMO_USERNAME, TOPICS, _Person, _weighted

#: activity type → weight in an active day's mix (daily_login comes first on every active day).
ACTIVITY_MIX = (
    ("quiz_completed", 34), ("comment_posted", 22), ("feedback_given", 10), ("project_created", 7),
    ("project_updated", 8), ("project_published", 5), ("event_attended", 4), ("battle_participated", 4),
    ("scavenger_hunt_completed", 3),
)
DIFFICULTIES = (("beginner", 4), ("intermediate", 4), ("advanced", 2))
PROJECT_WORDS = ("dashboard", "tracker", "portfolio", "chatbot", "playbook", "case study", "explorer",
                 "planner", "visualiser", "toolkit")


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
