"""Flask extensions, created without an app (bound in ``create_app``)."""
from __future__ import annotations

from flask import request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData

from .ratelimit import STRATEGY as RATELIMIT_STRATEGY

# Deterministic constraint names so Alembic migrations work on SQLite and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING_CONVENTION))
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
# One storage round trip per rate-limited request (the hit also answers the X-RateLimit-* headers).
limiter = Limiter(key_func=get_remote_address, default_limits=[], strategy=RATELIMIT_STRATEGY)


@limiter.request_filter
def _reads_are_not_rate_limited() -> bool:
    """Flask-Limiter skips GET and HEAD requests: Thrive's limits are on writes — sign-in and registration
    POSTs (``web/auth``) — and the API counts its own (``web/api/limits.py``); there are no default limits.
    Without this filter every page and HTMX poll still paid for the limiter's look-up of limits that do not
    exist (issue 12). A limit on a GET view would need this filter changed (``test_rate_limits.py``)."""
    return request.method in ("GET", "HEAD")
babel = Babel()
