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

from functools import cache

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import lazyload

from thrive.db import write_transaction
from thrive.extensions import db
from thrive.models import Learner


def _parse_cookie_id(cookie_id: str | None) -> tuple[int, int] | None:
    """``(learner id, generation)`` of a well-formed ``"<id>:<generation>"``, else None."""
    learner_part, sep, generation_part = (cookie_id or "").partition(":")
    if not sep or not learner_part.isascii() or not learner_part.isdigit() or not generation_part.isascii() \
            or not generation_part.isdigit() or len(learner_part) > 18 or len(generation_part) > 18:
        return None
    return int(learner_part), int(generation_part)


def _current(learner: Learner | None, generation: int) -> Learner | None:
    if learner is None or learner.erased_at is not None or (learner.session_generation or 0) != generation:
        return None
    return learner


def load_session_learner(cookie_id: str | None) -> Learner | None:
    """The learner a session / remember cookie id (``"<id>:<generation>"``) stands for, or None.

    None for a malformed id, an unknown learner, an erased one, or a
    generation that was ended (sign-out, sign out of all devices).
    """
    parsed = _parse_cookie_id(cookie_id)
    if parsed is None:
        return None
    learner = db.session.execute(_learner_statement(), {"learner_id": parsed[0]}).scalar_one_or_none()
    return _current(learner, parsed[1])


@cache
def _learner_statement():
    """The learner by id, built once (``session.get`` with options built its query on every request: ~0.2 ms
    of the ~0.35 ms an HTMX poll spends loading its learner, issue 12). Topics are read on the few pages that
    show them, not with every request's learner."""
    return select(Learner).where(Learner.id == bindparam("learner_id")).options(lazyload(Learner.topic_rows))


@cache
def _learner_with_header_statement():
    from thrive.services.notifications.inbox import header_count_columns

    return _learner_statement().add_columns(*header_count_columns(Learner.id))


def load_session_learner_with_header(cookie_id: str | None) -> tuple[Learner | None, tuple[int, bool] | None]:
    """:func:`load_session_learner` and the page header's counts in one statement (issue 12).

    Returns ``(learner, (unread notifications, a celebration is pending))``, or
    ``(None, None)`` when the cookie stands for no current learner (same rules).
    """
    parsed = _parse_cookie_id(cookie_id)
    if parsed is None:
        return None, None
    row = db.session.execute(_learner_with_header_statement(), {"learner_id": parsed[0]}).one_or_none()
    learner = _current(row[0], parsed[1]) if row is not None else None
    if learner is None:
        return None, None
    return learner, (int(row[1] or 0), bool(row[2]))


def end_all_sessions(learner_id: int) -> None:
    """Invalidate every session and remember cookie of the learner (all devices), committed at once."""
    with write_transaction() as session:
        session.execute(update(Learner).where(Learner.id == learner_id)
                        .values(session_generation=Learner.session_generation + 1)
                        .execution_options(synchronize_session=False))
    db.session.expire_all()
