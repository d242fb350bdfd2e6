"""A curated time-zone list for forms (issue 11): canonical IANA zones only, common ones first.

Canonical zones are the ``Z`` (zone) lines of the tzdata package's
``tzdata.zi``; its ``L`` (link) lines are aliases and deprecated names
("US/Eastern", "Asia/Calcutta"…), left out. A learner whose stored zone is an
alias still sees it selected (it is added to their own list).
"""
from __future__ import annotations

import importlib.resources
from functools import cache

from thrive.timeutil import is_valid_timezone

REGIONS = ("Africa/", "America/", "Antarctica/", "Asia/", "Atlantic/", "Australia/", "Europe/", "Indian/",
           "Pacific/")

#: Shown first, in this order (the rest follow alphabetically).
COMMON = (
    "UTC", "Europe/London", "Europe/Madrid", "Europe/Paris", "Europe/Berlin", "America/New_York",
    "America/Chicago", "America/Denver", "America/Los_Angeles", "America/Mexico_City", "America/Bogota",
    "America/Argentina/Buenos_Aires", "America/Sao_Paulo", "Africa/Lagos", "Africa/Nairobi", "Asia/Kolkata",
    "Asia/Singapore", "Asia/Tokyo", "Australia/Sydney",
)


@cache
def canonical_zones() -> tuple[str, ...]:
    """Canonical IANA zone names (sorted), from tzdata."""
    text = importlib.resources.files("tzdata").joinpath("zoneinfo/tzdata.zi").read_text(encoding="utf-8")
    zones = {line.split()[1] for line in text.splitlines() if line.startswith("Z ")}
    return tuple(sorted(z for z in zones if z.startswith(REGIONS)))


def timezone_choices(current: str | None = None) -> list[tuple[str, str]]:
    """(value, label) pairs: :data:`COMMON` first, then every other canonical zone; ``current`` kept."""
    zones = canonical_zones()
    common = [z for z in COMMON if z == "UTC" or z in zones]
    rest = [z for z in zones if z not in common]
    names = common + rest
    if current and current not in names and is_valid_timezone(current):  # an alias a learner already has
        names.insert(0, current)
    return [(n, n.replace("_", " ")) for n in names]
