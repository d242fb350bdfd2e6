"""Pure circle planning (§6.1): names, sizes and how small tiers merge — no database."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from thrive.services.points.registry import Registry

# --------------------------------------------------------- pure planning ---

def seq_label(seq: int) -> str:
    """Letters for circle number ``seq`` (0-based): 0 → "A", 25 → "Z", 26 → "AA", 27 → "AB" …"""
    if seq < 0:
        raise ValueError("seq must be ≥ 0")
    out = ""
    n = seq + 1
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(ord("A") + rem) + out
    return out


def circle_name(tier_name: str, seq: int) -> str:
    """``"<Tier> Circle <letters>"``, e.g. ``circle_name("Ember", 1) == "Ember Circle B"``."""
    return f"{tier_name} Circle {seq_label(seq)}"


def circle_count(n: int, target: int, minimum: int) -> int:
    """How many circles a group of ``n`` learners is split into (0 for an empty group)."""
    if n <= 0:
        return 0
    return max(1, n // target + (1 if n % target >= minimum else 0))


def circle_sizes(n: int, target: int, minimum: int) -> list[int]:
    """Sizes of the circles a group of ``n`` learners (sorted by total) is split into (§6.1).

    Full circles of ``target``; the leftover forms its own circle when it has
    at least ``minimum`` learners, else it merges into the previous circle.
    With 1 ≤ minimum ≤ target every size lies in [minimum, target + minimum − 1]
    unless n < minimum (one small circle). Position p (0-based) goes to circle
    ``min(p // target, count − 1)`` — exactly what the SQL computes.
    """
    k = circle_count(n, target, minimum)
    if k == 0:
        return []
    return [target] * (k - 1) + [n - target * (k - 1)]


@dataclass(frozen=True)
class GroupPlan:
    """One group of the assignment: learners of ``member_tiers`` split into circles named after ``tier_key``.

    ``member_tiers`` lists ladder tier keys, lowest first; more than one means
    small tiers were merged (see :func:`plan_groups`). ``sizes`` are the
    circle sizes in order (circle ``seq`` 0, 1, …), lowest totals first.
    """

    tier_key: str
    member_tiers: tuple[str, ...]
    size: int
    sizes: tuple[int, ...]


def plan_groups(counts: Sequence[tuple[str, int]], target: int, minimum: int) -> list[GroupPlan]:
    """Decide the groups for eligible-learner ``counts`` per tier, given in ladder order (lowest first).

    Top-down: a tier with fewer than ``minimum`` learners (including tiers
    already merged into it) merges into the next lower non-empty tier; the
    lowest group, if still smaller than ``minimum``, merges up into the group
    above it. Empty tiers are skipped. Returns the groups lowest first.
    """
    nonempty = [(key, n) for key, n in counts if n > 0]
    groups: list[list] = []  # [tier_key, member tiers (lowest first), size], built top → bottom
    carry_tiers: list[str] = []
    carry_n = 0
    for i in range(len(nonempty) - 1, -1, -1):
        key, n = nonempty[i]
        tiers, total = [key] + carry_tiers, n + carry_n
        if total < minimum and i > 0:
            carry_tiers, carry_n = tiers, total
            continue
        groups.append([key, tiers, total])
        carry_tiers, carry_n = [], 0
    if len(groups) >= 2 and groups[-1][2] < minimum:
        bottom = groups.pop()
        groups[-1][1] = bottom[1] + groups[-1][1]
        groups[-1][2] += bottom[2]
    groups.reverse()
    return [GroupPlan(key, tuple(tiers), n, tuple(circle_sizes(n, target, minimum))) for key, tiers, n in groups]


def _tier_to_group(registry: Registry, plans: Sequence[GroupPlan]) -> dict[str, str]:
    """Every ladder tier key → the group tier its learners go to (tiers without learners: nearest group)."""
    keys = [t.key for t in registry.tiers]
    mapping = {tier: plan.tier_key for plan in plans for tier in plan.member_tiers}
    if not plans:
        return mapping
    for i, key in enumerate(keys):
        if key in mapping:
            continue
        lower = [mapping[k] for k in reversed(keys[:i]) if k in mapping]
        higher = [mapping[k] for k in keys[i + 1:] if k in mapping]
        mapping[key] = (lower or higher)[0]
    return mapping

