"""Platform identities: learners found, created, linked and unlinked from OpenID Connect claims (§0, §13; issue 13).

A learner's platform identity is their ``external_id`` — the id the learning
platform uses in ``PUT /api/v1/users/<external_id>`` and in events. OpenID
Connect sign-in reads it from one claim of the verified ID token / userinfo
(``sub`` by default), so a learner the API created signs in to the very
account that holds their points.

The profile fields the platform owns (those with a configured claim that is
present and valid) are refreshed from the claims at every sign-in; a claim
that is missing or invalid leaves the field as it is. Identities are never
matched by e-mail address.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import lazyload

from thrive.db import write_transaction
from thrive.extensions import db
from thrive.models import Learner, LearnerState
from thrive.services.accounts.learners import (
    MIN_PASSWORD_LENGTH,
    USERNAME_RE,
    hash_password,
)
from thrive.services.errors import Conflict, NotFound, ThriveError, ValidationError
from thrive.timeutil import is_valid_timezone, platform_timezone_name

MAX_EXTERNAL_ID_LENGTH = 128


@dataclass(frozen=True)
class ClaimMapping:
    """Which claim holds what. An empty claim name means the platform does not own that field."""

    external_id: str = "sub"
    username: str = "preferred_username"
    display_name: str = "name"
    email: str = "email"
    timezone: str = "zoneinfo"


@dataclass(frozen=True)
class PlatformProfile:
    """The claims read into Thrive's fields; None where the claim is absent, unconfigured or invalid.

    ``ignored`` names the fields whose claim was present but unusable (e.g. an unknown time zone).
    """

    external_id: str
    username: str | None = None
    display_name: str | None = None
    email: str | None = None
    timezone: str | None = None
    ignored: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class SignInOutcome:
    """The learner to sign in, whether this sign-in created them, and the fields refreshed from the claims."""

    learner_id: int
    created: bool
    refreshed: tuple[str, ...]
    ignored: tuple[str, ...]


class AccountDeactivated(ThriveError):
    """The learner behind this identity is deactivated (403)."""

    code = "learner_deactivated"
    status = 403


def _claim(claims: Mapping, name: str):
    value = claims.get(name) if name else None
    if isinstance(value, str):
        value = value.strip()
    return value if value not in (None, "") else None


def profile_from_claims(claims: Mapping, mapping: ClaimMapping) -> PlatformProfile:
    """Read a :class:`PlatformProfile` from verified ``claims`` with ``mapping``.

    The external id may be a string or an integer claim (at most 128
    characters); raises ``ValidationError`` (``missing_external_id``) when it is
    missing or unusable. Other fields are validated as Thrive validates them
    (username pattern, 1–100 character display name, e-mail with ``@``, IANA
    time zone); an invalid value is left out and named in ``ignored``.
    """
    raw_id = _claim(claims, mapping.external_id)
    if isinstance(raw_id, bool) or not isinstance(raw_id, str | int):
        raise ValidationError(f"the platform sent no usable {mapping.external_id!r} claim",
                              code="missing_external_id")
    external_id = str(raw_id)
    if len(external_id) > MAX_EXTERNAL_ID_LENGTH:
        raise ValidationError(f"the {mapping.external_id!r} claim is longer than {MAX_EXTERNAL_ID_LENGTH} characters",
                              code="missing_external_id")
    values: dict[str, str | None] = {}
    ignored: list[str] = []
    checks = {
        "username": lambda v: USERNAME_RE.match(v) is not None,
        "display_name": lambda v: 1 <= len(v) <= 100,
        "email": lambda v: "@" in v and len(v) <= 254,
        "timezone": is_valid_timezone,
    }
    for name, valid in checks.items():
        value = _claim(claims, getattr(mapping, name))
        if value is None:
            values[name] = None
        elif isinstance(value, str) and valid(value):
            values[name] = value
        else:
            values[name] = None
            ignored.append(name)
    return PlatformProfile(external_id=external_id, ignored=tuple(ignored), **values)


def _locked(session, learner_id: int) -> Learner | None:
    """The learner row locked for this transaction (not its joined state row: PostgreSQL refuses
    ``FOR UPDATE`` on the nullable side of an outer join)."""
    return session.scalar(select(Learner).where(Learner.id == learner_id).options(lazyload(Learner.state))
                          .with_for_update())


def _username_taken(session, username: str, except_id: int | None = None) -> bool:
    query = select(Learner.id).where(func.lower(Learner.username) == username.lower())
    if except_id is not None:
        query = query.where(Learner.id != except_id)
    return session.scalar(query) is not None


def _new_username(session, profile: PlatformProfile, claims: Mapping, mapping: ClaimMapping) -> str:
    """A free username for a new learner: the username claim, else one derived from the claims."""
    candidates = []
    if profile.username:
        candidates.append(profile.username)
    raw = _claim(claims, mapping.username) or profile.display_name or ""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", str(raw)).strip("-.")[:48]
    if len(slug) >= 3:
        candidates.append(slug)
    digest = hashlib.sha256(profile.external_id.encode()).hexdigest()
    candidates.append(f"learner-{digest[:10]}")
    base = candidates[0]
    for candidate in candidates:
        if not _username_taken(session, candidate):
            return candidate
    n = 2
    while _username_taken(session, f"{base[:56]}-{n}"):
        n += 1
    return f"{base[:56]}-{n}"


def _refresh(session, learner: Learner, profile: PlatformProfile) -> tuple[str, ...]:
    """Copy the platform-owned fields of ``profile`` onto ``learner``; return the names that changed."""
    changed = []
    for name in ("display_name", "email", "timezone"):
        value = getattr(profile, name)
        if value is not None and getattr(learner, name) != value:
            setattr(learner, name, value)
            changed.append(name)
    username = profile.username
    if (username and username != learner.username
            and not _username_taken(session, username, except_id=learner.id)):
        learner.username = username
        changed.append("username")
    return tuple(changed)


def sign_in_from_claims(claims: Mapping, mapping: ClaimMapping) -> SignInOutcome:
    """Find the learner whose external id the claims carry, or create them; refresh platform-owned fields.

    ``claims``: the verified ID token claims merged with userinfo. Raises
    ``ValidationError`` (no usable external id) and ``AccountDeactivated``
    (403; nothing is changed). A new learner gets the username claim when it
    is valid and free, else a derived one; no password (§15: the platform is
    their door). Two first sign-ins at once create one learner (the loser of
    the unique external id retries and finds it).
    """
    profile = profile_from_claims(claims, mapping)
    for attempt in (1, 2):
        try:
            with write_transaction() as session:
                learner = session.scalar(select(Learner).where(Learner.external_id == profile.external_id))
                if learner is not None:
                    if not learner.is_active_account:
                        raise AccountDeactivated("this account is deactivated")
                    refreshed = _refresh(session, learner, profile)
                    return SignInOutcome(learner.id, False, refreshed, profile.ignored)
                username = _new_username(session, profile, claims, mapping)
                learner = Learner(
                    username=username, display_name=profile.display_name or username, email=profile.email,
                    timezone=profile.timezone or platform_timezone_name(), external_id=profile.external_id,
                    password_hash=None, notification_prefs={},
                )
                learner.state = LearnerState()
                session.add(learner)
                session.flush()
                return SignInOutcome(learner.id, True, (), profile.ignored)
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def link_identity(learner_id: int, claims: Mapping, mapping: ClaimMapping) -> tuple[str, ...]:
    """Link the platform identity in ``claims`` to the signed-in learner ``learner_id``.

    Only after the learner completed the OpenID Connect flow while signed in —
    never by matching e-mail addresses. Refreshes the platform-owned fields and
    returns the names that changed. Raises ``Conflict``: ``identity_in_use``
    when another learner already has this external id (two accounts are never
    merged), ``already_linked`` when this learner is linked to a different
    identity; ``ValidationError`` when the claims carry no external id;
    ``NotFound`` for an unknown learner. Linking the same identity again is a no-op.
    """
    profile = profile_from_claims(claims, mapping)
    try:
        with write_transaction() as session:
            learner = _locked(session, learner_id)
            if learner is None:
                raise NotFound("no such learner")
            owner = session.scalar(select(Learner.id).where(Learner.external_id == profile.external_id))
            if owner is not None and owner != learner.id:
                raise Conflict("this platform account is already linked to another Thrive account",
                               code="identity_in_use")
            if learner.external_id and learner.external_id != profile.external_id:
                raise Conflict("this Thrive account is linked to another platform account", code="already_linked")
            learner.external_id = profile.external_id
            return _refresh(session, learner, profile)
    except IntegrityError as exc:  # a concurrent link or API create took the external id
        raise Conflict("this platform account is already linked to another Thrive account",
                       code="identity_in_use") from exc


def unlink_identity(learner_id: int, *, local_accounts: bool, new_password: str | None = None) -> None:
    """Remove the learner's platform identity; the account, its ledger and points stay as they are.

    Afterwards the platform's API calls and sign-ins for the old external id
    no longer reach this account. Raises ``ValidationError``: ``not_linked``
    when there is no identity, ``password_required`` when the account has no
    password and ``new_password`` is not given (it would have no way in),
    ``weak_password`` for a short one; ``Conflict`` (``platform_only``) when
    local accounts are off (``local_accounts`` False): the platform is then
    the only door. ``new_password`` (≥ 8 characters) is set in the same transaction.
    """
    if not local_accounts:
        raise Conflict("sign-in through the learning platform is the only way in on this site",
                       code="platform_only")
    with write_transaction() as session:
        learner = _locked(session, learner_id)
        if learner is None:
            raise NotFound("no such learner")
        if not learner.external_id:
            raise ValidationError("this account is not linked to a platform account", code="not_linked")
        if new_password:
            if len(new_password) < MIN_PASSWORD_LENGTH:
                raise ValidationError(f"password must be at least {MIN_PASSWORD_LENGTH} characters",
                                      code="weak_password")
            learner.password_hash = hash_password(new_password)
        elif not learner.password_hash:
            raise ValidationError("set a password first, so that you can still sign in", code="password_required")
        learner.external_id = None


def linked_external_id(learner_id: int) -> str | None:
    """The learner's external id (None when not linked)."""
    return db.session.scalar(select(Learner.external_id).where(Learner.id == learner_id))
