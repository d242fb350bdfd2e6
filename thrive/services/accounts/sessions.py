"""Sign-in credentials that can be ended: the per-learner session generation (§15, issue 10 defect 1).

Flask keeps the session in a signed cookie and Flask-Login's "keep me signed
in" in another; neither can be deleted from a browser that replays an old
copy. So the id both cookies carry is ``"<learner id>:<generation>"``
(:meth:`thrive.models.Learner.get_id`), :func:`load_session_learner` accepts a
cookie only while its generation is the learner's current one, and
:func:`end_all_sessions` bumps it — every session and remember cookie minted
before stops working, on every device, at the next request.
"""
from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import lazyload

from thrive.db import write_transaction
from thrive.extensions import db
from thrive.models import Learner


def load_session_learner(cookie_id: str | None) -> Learner | None:
    """The learner a session / remember cookie id (``"<id>:<generation>"``) stands for, or None.

    None for a malformed id, an unknown learner, an erased one, or a
    generation that was ended (sign-out, sign out of all devices).
    """
    learner_part, sep, generation_part = (cookie_id or "").partition(":")
    if not sep or not learner_part.isascii() or not learner_part.isdigit() or not generation_part.isascii() \
            or not generation_part.isdigit() or len(learner_part) > 18 or len(generation_part) > 18:
        return None
    # topics are read on the few pages that show them, not with every request's learner (issue 12)
    learner = db.session.get(Learner, int(learner_part), options=[lazyload(Learner.topic_rows)])
    if learner is None or learner.erased_at is not None or (learner.session_generation or 0) != int(generation_part):
        return None
    return learner


def end_all_sessions(learner_id: int) -> None:
    """Invalidate every session and remember cookie of the learner (all devices), committed at once."""
    with write_transaction() as session:
        session.execute(update(Learner).where(Learner.id == learner_id)
                        .values(session_generation=Learner.session_generation + 1)
                        .execution_options(synchronize_session=False))
    db.session.expire_all()
