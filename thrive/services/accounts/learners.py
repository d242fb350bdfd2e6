"""Creating and updating learners (§2, §8.4, §13)."""
from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from thrive.db import write_transaction
from thrive.extensions import db
from thrive.models import Learner, LearnerState, LearnerTopic
from thrive.models.learner import STAFF_ROLES
from thrive.services.accounts.names import USERNAME_RE, clean_display_name, clean_username  # noqa: F401
from thrive.services.accounts.passwords import check_new_password
from thrive.services.errors import Conflict, UnknownLearner, ValidationError
from thrive.timeutil import is_valid_timezone, platform_timezone_name

TOPIC_RE = re.compile(r"^[\w .&+#/-]{1,64}$", re.UNICODE)
MAX_TOPICS = 20
MIN_PASSWORD_LENGTH = 8
#: Production hashing method (§15); ``THRIVE_PASSWORD_HASH_METHOD`` overrides it (the test config
#: uses a cheap one; ``tests/services/accounts/test_passwords.py`` proves the production default).
PASSWORD_METHOD = "scrypt"


def password_method() -> str:
    """The werkzeug hashing method in force: the app's ``THRIVE_PASSWORD_HASH_METHOD`` or scrypt."""
    from flask import current_app, has_app_context

    if has_app_context():
        return current_app.config.get("THRIVE_PASSWORD_HASH_METHOD") or PASSWORD_METHOD
    return PASSWORD_METHOD


def hash_password(password: str) -> str:
    """Hash a password (scrypt in production, §15) and return werkzeug's ``method$salt$hash`` string."""
    return generate_password_hash(password, method=password_method())


def clean_topics(topics: Iterable[str] | None) -> list[str]:
    """Normalise topics: stripped, de-duplicated (case-insensitively), validated, at most 20.

    Raises ``ValidationError`` for a topic with unexpected characters or too long.
    """
    seen: dict[str, str] = {}
    for raw in topics or []:
        if not isinstance(raw, str):
            raise ValidationError("topics must be strings")
        topic = " ".join(raw.split())
        if not topic:
            continue
        if not TOPIC_RE.match(topic):
            raise ValidationError(f"topic {topic[:40]!r} has unsupported characters or is too long")
        seen.setdefault(topic.lower(), topic)
    if len(seen) > MAX_TOPICS:
        raise ValidationError(f"at most {MAX_TOPICS} topics")
    return sorted(seen.values(), key=str.lower)


def _is_email(value: str) -> bool:
    """The same email check as the OpenAPI document's ``format: email`` (marshmallow's validator)."""
    from marshmallow import ValidationError as SchemaError
    from marshmallow.validate import Email

    try:
        Email()(value)
    except SchemaError:
        return False
    return True


def _validate_profile(username, display_name, email, timezone) -> None:
    if username is not None:
        clean_username(username)
    if display_name is not None:
        clean_display_name(display_name)
    if email is not None and email != "" and (len(email) > 254 or not _is_email(email)):
        raise ValidationError("email address is not valid", code="invalid_email")
    if timezone is not None and not is_valid_timezone(timezone):
        raise ValidationError(f"unknown time zone {timezone!r}", code="invalid_timezone")


def username_taken(username: str) -> bool:
    """True when a learner already has ``username`` (case-insensitive)."""
    return db.session.scalar(select(Learner.id).where(func.lower(Learner.username) == username.lower())) is not None


def create_learner(username: str, display_name: str | None = None, *, commit: bool = True, **fields) -> Learner:
    """Create a learner (arguments of :func:`_create_learner`).

    With ``commit`` (the default) the checks and the insert run in one
    immediate write transaction (``BEGIN IMMEDIATE`` on SQLite), so sign-up
    waits its turn behind an import instead of failing with "database is
    locked" (issue 10 defect 3); without it the caller's transaction is only flushed.
    """
    if not commit:
        return _create_learner(username, display_name, **fields)
    with write_transaction():
        return _create_learner(username, display_name, **fields)


def _create_learner(
    username: str,
    display_name: str | None = None,
    *,
    password: str | None = None,
    email: str | None = None,
    timezone: str | None = None,
    topics: Iterable[str] | None = None,
    external_id: str | None = None,
    is_admin: bool = False,
    staff_role: str | None = None,
    is_learner: bool | None = None,
    share_activities: bool = True,
    share_tier_upgrades: bool = True,
    share_profile: bool = True,
    check_password: bool = False,
) -> Learner:
    """Create a learner with an empty derived-state row.

    ``timezone`` defaults to the platform's (§3). ``staff_role`` is None, "admin"
    or "moderator" (``is_admin=True`` is shorthand for "admin"); ``is_learner``
    defaults to True for learners and False for staff (§11). Names are normalised
    (:mod:`thrive.services.accounts.names`). ``check_password`` applies the
    new-password rules (:func:`thrive.services.accounts.passwords.check_new_password`,
    sign-up and CLI). Raises ``ValidationError`` for bad fields and
    ``Conflict`` when the username or external id is taken.
    """
    username = clean_username(username)
    display_name = clean_display_name(display_name or username)
    timezone = timezone or platform_timezone_name()
    _validate_profile(username, display_name, email, timezone)
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(f"password must be at least {MIN_PASSWORD_LENGTH} characters", code="weak_password")
    if password is not None and check_password:
        check_new_password(password, [username, display_name, email])
    if username_taken(username):
        raise Conflict(f"username {username!r} is taken", code="username_taken")
    if external_id and db.session.scalar(select(Learner.id).where(Learner.external_id == external_id)):
        raise Conflict(f"external id {external_id!r} is taken", code="external_id_taken")
    staff_role = staff_role or ("admin" if is_admin else None)
    if staff_role is not None and staff_role not in STAFF_ROLES:
        raise ValidationError(f"unknown staff role {staff_role!r}", code="invalid_staff_role")
    learner = Learner(
        username=username, display_name=display_name, email=email or None, timezone=timezone,
        external_id=external_id, staff_role=staff_role,
        is_learner=(staff_role is None) if is_learner is None else is_learner,
        password_hash=hash_password(password) if password else None,
        share_activities=share_activities, share_tier_upgrades=share_tier_upgrades, share_profile=share_profile,
        notification_prefs={},
    )
    learner.topic_rows = [LearnerTopic(topic=t) for t in clean_topics(topics)]
    learner.state = LearnerState()
    db.session.add(learner)
    db.session.flush()
    return learner


def set_topics(learner: Learner, topics: Iterable[str]) -> None:
    """Replace the learner's topics (no commit)."""
    wanted = clean_topics(topics)
    learner.topic_rows = [t for t in learner.topic_rows if t.topic in wanted]
    have = {t.topic for t in learner.topic_rows}
    learner.topic_rows.extend(LearnerTopic(topic=t) for t in wanted if t not in have)


def upsert_by_external_id(external_id: str, fields: dict) -> tuple[Learner, bool]:
    """Create or update the learner with ``external_id`` (``PUT /api/v1/users/<id>``, §13).

    ``fields`` may hold ``username``, ``display_name``, ``email``, ``timezone``,
    ``topics``. A new learner needs ``username``. Returns (learner, created).
    Raises ``ValidationError`` / ``Conflict``; nothing is written on error.
    """
    if "\x00" in external_id:
        raise ValidationError("external id must not contain NUL characters")
    learner = db.session.scalar(select(Learner).where(Learner.external_id == external_id))
    if learner is None:
        if not fields.get("username"):
            raise ValidationError("username is required to create a learner", code="missing_field")
        return create_learner(
            fields["username"], fields.get("display_name"), email=fields.get("email"),
            timezone=fields.get("timezone"), topics=fields.get("topics"), external_id=external_id,
        ), True
    _validate_profile(fields.get("username"), fields.get("display_name"), fields.get("email"),
                      fields.get("timezone"))
    new_username = fields.get("username")
    if new_username and new_username.lower() != learner.username.lower() and username_taken(new_username):
        raise Conflict(f"username {new_username!r} is taken", code="username_taken")
    topics = clean_topics(fields["topics"]) if "topics" in fields and fields["topics"] is not None else None
    for name in ("username", "display_name", "email", "timezone"):
        if fields.get(name) is not None:
            value = fields[name]
            if name == "display_name":
                value = clean_display_name(value)
            elif name == "username":
                value = clean_username(value)
            setattr(learner, name, value)
    if topics is not None:
        set_topics(learner, topics)
    db.session.commit()
    return learner, False


def get_by_external_id(external_id: str) -> Learner:
    """The learner with ``external_id``; raises ``UnknownLearner``."""
    if "\x00" in external_id:  # no stored id holds NUL (and PostgreSQL text cannot)
        raise UnknownLearner("no learner with that external id")
    learner = db.session.scalar(select(Learner).where(Learner.external_id == external_id))
    if learner is None:
        raise UnknownLearner(f"no learner with external id {external_id!r}")
    return learner


def get_by_username(username: str) -> Learner:
    """The learner with ``username`` (case-insensitive); raises ``UnknownLearner``."""
    learner = db.session.scalar(select(Learner).where(func.lower(Learner.username) == username.lower()))
    if learner is None:
        raise UnknownLearner(f"no learner named {username!r}")
    return learner


_dummy: dict[str, str] = {}


def _dummy_hash() -> str:
    method = password_method()
    if method not in _dummy:
        _dummy[method] = hash_password("timing-equaliser")
    return _dummy[method]


def authenticate(username: str, password: str) -> Learner | None:
    """The learner when ``password`` matches, else None (constant work either way)."""
    learner = db.session.scalar(select(Learner).where(func.lower(Learner.username) == (username or "").lower()))
    if learner is None or not learner.password_hash:
        check_password_hash(_dummy_hash(), password or "")
        return None
    return learner if check_password_hash(learner.password_hash, password or "") else None
