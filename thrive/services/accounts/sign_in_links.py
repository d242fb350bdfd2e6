"""One-time sign-in links (§0, §13; issue 13).

The learning platform asks ``POST /api/v1/users/<external_id>/sign-in-links``
when a learner clicks "My Thrive Circle" and sends the learner's browser to
the answer's URL. A link:

- carries a 256-bit random token; only its SHA-256 hash is stored (a leaked
  database does not leak working links);
- is valid for ``lifetime_seconds`` (``THRIVE_SIGN_IN_LINK_SECONDS``, default
  300) and for one use: :func:`redeem` marks it used in the same write
  transaction that checks it, with the row locked, so two concurrent uses
  sign in at most once;
- may carry a ``next`` path inside Thrive (checked by :func:`clean_next_path`:
  a local absolute path, never a scheme, host, ``//`` or backslash).

Errors are :class:`SignInLinkError` subclasses with stable codes; the web
layer turns them into pages (nobody is signed in on any error).
"""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import delete, func, select

from thrive.db import write_transaction
from thrive.models import Learner, SignInLink
from thrive.services.errors import Conflict, ThriveError, UnknownLearner, ValidationError
from thrive.timeutil import as_utc, utcnow

#: Bytes of randomness in a token (``secrets.token_urlsafe``: 43 URL-safe characters).
TOKEN_BYTES = 32
#: A well-formed token: what :func:`secrets.token_urlsafe` produces for :data:`TOKEN_BYTES`.
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")
MAX_NEXT_LENGTH = 512
#: Used or expired rows of a learner are deleted this long after they expired (the table stays small).
KEEP_EXPIRED = timedelta(days=1)
#: Paths a link may never land on: the API, static files, sign-in machinery.
FORBIDDEN_NEXT_PREFIXES = ("/api/", "/static/", "/sign-in/", "/login", "/logout")


class SignInLinkError(ThriveError):
    """A link that cannot sign anyone in. ``code``: see the subclasses."""


class InvalidLink(SignInLinkError):
    """Unknown, malformed or tampered token (400)."""

    code = "link_invalid"
    status = 400


class UsedLink(SignInLinkError):
    """The link was used before (410)."""

    code = "link_used"
    status = 410


class ExpiredLink(SignInLinkError):
    """The link is past its ``expires_at`` (410)."""

    code = "link_expired"
    status = 410


class DeactivatedLearner(SignInLinkError):
    """The learner's account is deactivated (403 when redeeming; 409 when asking for a link)."""

    code = "learner_deactivated"
    status = 403


@dataclass(frozen=True)
class IssuedLink:
    """A new link: ``token`` (plaintext, shown once), ``expires_at`` (UTC instant), ``next_path`` or None."""

    token: str
    expires_at: datetime
    learner_id: int
    next_path: str | None


@dataclass(frozen=True)
class Redeemed:
    """A link that was just used: the learner to sign in and where to land (None: home)."""

    learner_id: int
    next_path: str | None


def hash_token(token: str) -> str:
    """SHA-256 hex digest of ``token`` (what the table stores)."""
    return hashlib.sha256(token.encode()).hexdigest()


def clean_next_path(path: str | None) -> str | None:
    """``path`` if it is a safe local Thrive path, None when empty; raises ``ValidationError`` (``invalid_next``).

    Safe: starts with a single ``/``, has no scheme, host, backslash or control
    character, is at most 512 characters, and is not under ``/api/``,
    ``/static/`` or the sign-in routes. Whether the path names a real page is
    checked by the web layer, which knows the routes.
    """
    if path is None or path == "":
        return None
    if not isinstance(path, str) or len(path) > MAX_NEXT_LENGTH:
        raise ValidationError(f"next must be a path of at most {MAX_NEXT_LENGTH} characters", code="invalid_next")
    parts = urlsplit(path)
    if (not path.startswith("/") or path.startswith("//") or "\\" in path or parts.scheme or parts.netloc
            or any(ord(c) < 0x20 or ord(c) == 0x7F for c in path)):
        raise ValidationError("next must be a path inside Thrive, such as /journey", code="invalid_next")
    if path.startswith(FORBIDDEN_NEXT_PREFIXES):
        raise ValidationError(f"next may not point at {path.split('?')[0]!r}", code="invalid_next")
    return path


def create_link(external_id: str, *, lifetime_seconds: int, next_path: str | None = None,
                api_key_id: int | None = None, now: datetime | None = None) -> IssuedLink:
    """Issue a single-use link for the learner with ``external_id``.

    ``lifetime_seconds`` (> 0) is how long the link stays valid from ``now``
    (default: the current UTC instant). Raises ``UnknownLearner`` (404),
    ``ValidationError`` (400, ``invalid_next``) and ``Conflict`` (409,
    ``learner_deactivated``). The learner's links that expired over a day ago
    are deleted in the same transaction.
    """
    return _issue(Learner.external_id == external_id, f"no learner with external id {external_id!r}",
                  lifetime_seconds=lifetime_seconds, next_path=next_path, api_key_id=api_key_id, now=now)


def create_link_for_username(username: str, *, lifetime_seconds: int, next_path: str | None = None,
                             now: datetime | None = None) -> IssuedLink:
    """As :func:`create_link`, for the learner named ``username`` (case-insensitive): the ops door
    (``flask thrive sign-in-link``) for staff when local accounts are off."""
    return _issue(func.lower(Learner.username) == (username or "").lower(), f"no learner named {username!r}",
                  lifetime_seconds=lifetime_seconds, next_path=next_path, api_key_id=None, now=now)


def _issue(which, unknown: str, *, lifetime_seconds: int, next_path: str | None, api_key_id: int | None,
           now: datetime | None) -> IssuedLink:
    if lifetime_seconds <= 0:
        raise ValidationError("the link lifetime must be positive", code="invalid_lifetime")
    next_path = clean_next_path(next_path)
    now = now or utcnow()
    token = secrets.token_urlsafe(TOKEN_BYTES)
    with write_transaction() as session:
        learner = session.scalar(select(Learner).where(which))
        if learner is None:
            raise UnknownLearner(unknown)
        if not learner.is_active_account:
            raise Conflict(f"the learner {learner.username!r} is deactivated", code="learner_deactivated")
        session.execute(delete(SignInLink).where(SignInLink.learner_id == learner.id,
                                                 SignInLink.expires_at < now - KEEP_EXPIRED))
        expires_at = now + timedelta(seconds=lifetime_seconds)
        session.add(SignInLink(learner_id=learner.id, token_hash=hash_token(token), next_path=next_path,
                               api_key_id=api_key_id, created_at=now, expires_at=expires_at))
        learner_id = learner.id
    return IssuedLink(token=token, expires_at=expires_at, learner_id=learner_id, next_path=next_path)


def redeem(token: str, *, now: datetime | None = None) -> Redeemed:
    """Use the link with ``token`` once; return the learner to sign in and the landing path.

    Checks, in one write transaction with the link row locked: the token is
    well-formed and known (else ``InvalidLink``), unused (``UsedLink``), not
    expired at ``now`` (``ExpiredLink``), and its learner is active
    (``DeactivatedLearner``). Every outcome except ``InvalidLink`` marks the
    link used, so a link never works after it was once presented.
    """
    if not isinstance(token, str) or not TOKEN_RE.match(token):
        raise InvalidLink("this sign-in link is not valid")
    now = now or utcnow()
    with write_transaction() as session:
        link = session.scalar(select(SignInLink).where(SignInLink.token_hash == hash_token(token)).with_for_update())
        if link is None:
            raise InvalidLink("this sign-in link is not valid")
        if link.used_at is not None:
            raise UsedLink("this sign-in link was already used")
        link.used_at = now
        outcome = Redeemed(learner_id=link.learner_id, next_path=link.next_path)
        expired = as_utc(link.expires_at) <= now
        active = session.scalar(select(Learner.is_active_account).where(Learner.id == link.learner_id))
    # Committed: the link is spent whatever follows.
    if expired:
        raise ExpiredLink("this sign-in link has expired")
    if not active:
        raise DeactivatedLearner("this account is deactivated")
    return outcome
