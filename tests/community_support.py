"""Helpers shared by the community, profile, privacy, feed and follow tests (§8)."""
from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from thrive.extensions import db
from thrive.services.points.award import award

UTC = UTC
_keys = itertools.count(1)


def give(app, learner_id: int, activity_type: str = "quiz_completed", *, at: datetime | None = None,
         metadata: dict | None = None, points: int | None = None, description: str | None = None):
    """Award through ``award()`` (the only path that changes points) in a fresh app context."""
    with app.app_context():
        result = award(learner_id, activity_type, event_key=f"test:{next(_keys)}", occurred_at=at,
                       metadata=metadata, points=points, description=description)
        db.session.remove()
        return result


def set_total(app, learner_id: int, total: int, *, at: datetime | None = None, topic: str = "Privacy"):
    """Bring a learner to exactly ``total`` points: an admin adjustment plus one shared quiz (20 points)."""
    give(app, learner_id, "admin_adjustment", points=total - 20, description="test setup", at=at)
    give(app, learner_id, "quiz_completed", metadata={"topic": topic}, at=at)


def ago(**kwargs) -> datetime:
    """A UTC instant ``kwargs`` (timedelta arguments) before now, whole seconds."""
    return (datetime.now(UTC) - timedelta(**kwargs)).replace(microsecond=0)


def login(client, auth, learner) -> None:
    response = auth.login(learner.username)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
