"""The demo community's people (§14): the two known accounts and N seeded synthetic learners.

Owns who is in the demo: the admin ``admin`` / ``thrive-admin`` and the
learner ``demo`` / ``thrive-demo``; learners with realistic names (Faker,
seeded) from a dozen countries in their countries' IANA time zones, with
topics, a persona (how often and how much they take part) and a privacy mix
(most share everything; some keep activities, tier-ups or the profile to
themselves). :func:`_create_people` creates them through ``create_learner``
and returns the :class:`_Person` records the rest of the demo plans with.
"""
from __future__ import annotations

import functools
import random
import unicodedata
import zlib
from dataclasses import dataclass
from datetime import date, timedelta

from faker import Faker
from sqlalchemy import select

from thrive.extensions import db
from thrive.models import Learner
from thrive.services.accounts.learners import USERNAME_RE, create_learner
from thrive.timeutil import platform_timezone_name

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


def _weighted(rng: random.Random, pairs):
    items, weights = zip(*pairs)
    return rng.choices(items, weights=weights, k=1)[0]


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in folded.lower() if c.isalnum())


@functools.cache
def _faker(locale: str) -> Faker:
    """One Faker per locale and process: building one scans its providers (~50 ms); it is re-seeded per build."""
    return Faker(locale)


def _fakers(seed: int) -> dict[str, Faker]:
    """A freshly seeded Faker per region's locale (the same seed gives the same names)."""
    out = {}
    for locale, _zones, _weight in REGIONS:
        fake = _faker(locale)
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
