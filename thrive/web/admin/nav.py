"""The admin area's navigation and moderator allow-list, as data (§11).

Sections register themselves with one line each::

    NAV.append(NavItem("admin.rules", "Point rules", ADMINS))
    allow_moderators("admin.moderation_queue", methods=("GET", "POST"))

``NAV`` is rendered in ``templates/admin/base.html`` (items whose ``roles``
include the signed-in staff member's role). The blueprint's one
``before_request`` guard (``thrive/web/admin/__init__.py``) lets admins reach
everything and moderators only the endpoints allowed here, for the methods
allowed here.
"""
from __future__ import annotations

from typing import NamedTuple

ADMINS: tuple[str, ...] = ("admin",)
STAFF: tuple[str, ...] = ("admin", "moderator")


class NavItem(NamedTuple):
    """One navigation link: ``endpoint`` (e.g. ``"admin.jobs"``), its label, the staff roles that see it."""

    endpoint: str
    label: str
    roles: tuple[str, ...] = ADMINS


#: The admin navigation, in display order (sections append one line each).
NAV: list[NavItem] = []

#: endpoint → HTTP methods a moderator may use there (everything else answers 403 to moderators).
MODERATOR_ENDPOINTS: dict[str, set[str]] = {}


def allow_moderators(*endpoints: str, methods: tuple[str, ...] = ("GET",)) -> None:
    """Let moderators reach ``endpoints`` with ``methods`` (HEAD goes with GET)."""
    wanted = {m.upper() for m in methods}
    if "GET" in wanted:
        wanted.add("HEAD")
    for endpoint in endpoints:
        MODERATOR_ENDPOINTS.setdefault(endpoint, set()).update(wanted)


def moderator_may(endpoint: str | None, method: str) -> bool:
    """True when a moderator may call ``endpoint`` with ``method``."""
    return endpoint is not None and method.upper() in MODERATOR_ENDPOINTS.get(endpoint, ())


def nav_for(role: str | None) -> list[NavItem]:
    """The navigation items visible to ``role``."""
    return [item for item in NAV if role in item.roles]
