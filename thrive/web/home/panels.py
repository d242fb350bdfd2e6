"""Registry of panels on "Your Thrive Circle" (§6.1, §7).

Areas that own a home panel (circle, weekly goals…) register it here from
their blueprint module; the home view renders every registered panel on the
server (the page works without JavaScript) and each panel refreshes itself
through its own fragment URL by HTMX polling.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class HomePanel:
    """``template`` is rendered with the dict that ``context(learner, now)`` returns.

    ``now`` is the current UTC instant. ``order`` sorts panels (lower first).
    """

    key: str
    template: str
    context: Callable[[Any, datetime], dict]
    order: int = 50


_panels: dict[str, HomePanel] = {}


def register_home_panel(key: str, template: str, context: Callable[[Any, datetime], dict], order: int = 50) -> None:
    """Register (or replace) the home panel ``key``."""
    _panels[key] = HomePanel(key, template, context, order)


def home_panels(learner, now: datetime) -> list[tuple[HomePanel, dict]]:
    """Every registered panel with its context for ``learner`` at ``now``, in order."""
    return [(p, p.context(learner, now)) for p in sorted(_panels.values(), key=lambda p: (p.order, p.key))]
