"""Configuration classes that read the environment (§3, §15).

Every setting has a sane local default so that ``make run`` works on a fresh
clone; production overrides them with environment variables (see README).
"""
from __future__ import annotations

import os
from datetime import timedelta


def normalize_database_url(url: str) -> str:
    """Return ``url`` with PostgreSQL URLs pointed at the psycopg 3 driver.

    ``postgres://…`` and ``postgresql://…`` (as Heroku-style hosts and most
    docs spell them) become ``postgresql+psycopg://…``; anything else is
    returned unchanged.
    """
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _int_env(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


class Config:
    """Defaults for local development, overridable from the environment."""

    # Required outside debug and tests (create_app refuses to start without it); `make run` keeps one in instance/.
    SECRET_KEY = os.environ.get("SECRET_KEY") or None
    # None means: SQLite file ``thrive.db`` under the instance folder (set in create_app).
    SQLALCHEMY_DATABASE_URI = (
        normalize_database_url(os.environ["DATABASE_URL"]) if os.environ.get("DATABASE_URL") else None
    )
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    THRIVE_TIMEZONE = os.environ.get("THRIVE_TIMEZONE", "UTC")

    # Request size limit for forms and the API (bytes); 413 above it (§13, §15).
    MAX_CONTENT_LENGTH = _int_env("THRIVE_MAX_CONTENT_LENGTH", 2 * 1024 * 1024)

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = os.environ.get("THRIVE_SECURE_COOKIES", "0") == "1"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    REMEMBER_COOKIE_DURATION = timedelta(days=30)

    WTF_CSRF_TIME_LIMIT = None  # token valid for the session's life

    # Flask-Limiter: memory:// for one process; redis://… in production.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    THRIVE_LOGIN_RATE_LIMIT = os.environ.get("THRIVE_LOGIN_RATE_LIMIT", "10 per minute")
    THRIVE_API_RATE_LIMIT = os.environ.get("THRIVE_API_RATE_LIMIT", "6000 per minute")

    # Caches of the rule registry / tier ladder / level table (seconds); an
    # edit made through the services invalidates at once in that process.
    THRIVE_REGISTRY_CACHE_SECONDS = _int_env("THRIVE_REGISTRY_CACHE_SECONDS", 5)

    # Weekly rhythm (§6)
    THRIVE_CIRCLE_TARGET_SIZE = _int_env("THRIVE_CIRCLE_TARGET_SIZE", 25)
    THRIVE_CIRCLE_MIN_SIZE = _int_env("THRIVE_CIRCLE_MIN_SIZE", 15)
    THRIVE_CIRCLE_ELIGIBILITY_DAYS = _int_env("THRIVE_CIRCLE_ELIGIBILITY_DAYS", 28)
    THRIVE_CIRCLE_GOAL_PER_MEMBER = _int_env("THRIVE_CIRCLE_GOAL_PER_MEMBER", 100)
    THRIVE_CIRCLE_GOAL_BONUS = _int_env("THRIVE_CIRCLE_GOAL_BONUS", 50)
    THRIVE_STREAK_BONUS_PER_DAY = _int_env("THRIVE_STREAK_BONUS_PER_DAY", 5)
    THRIVE_STREAK_BONUS_MAX_DAYS = _int_env("THRIVE_STREAK_BONUS_MAX_DAYS", 100)

    # How long a process trusts a verified API key (seconds); revoking clears it in-process at once.
    THRIVE_API_KEY_CACHE_SECONDS = _int_env("THRIVE_API_KEY_CACHE_SECONDS", 10)
    # Check pooled PostgreSQL connections before use (one extra round trip per checkout).
    THRIVE_DB_PRE_PING = os.environ.get("THRIVE_DB_PRE_PING", "0") == "1"

    THRIVE_COMMUNITY_STATS_CACHE_SECONDS = _int_env("THRIVE_COMMUNITY_STATS_CACHE_SECONDS", 30)
    THRIVE_JOB_STALE_SECONDS = _int_env("THRIVE_JOB_STALE_SECONDS", 6 * 3600)

    # API batch limit (§13)
    THRIVE_API_BATCH_MAX = 1000

    # --- security and privacy (issue 10) -------------------------------------------------------
    # Reverse proxies in front of the app that set X-Forwarded-For/-Proto (werkzeug ProxyFix); 0 = none.
    THRIVE_PROXY_HOPS = _int_env("THRIVE_PROXY_HOPS", 0)
    THRIVE_REGISTER_RATE_LIMIT = os.environ.get("THRIVE_REGISTER_RATE_LIMIT", "5 per minute;30 per hour")
    # Failed-password budget per account (any address), on top of the per-address sign-in limit.
    THRIVE_ACCOUNT_LOGIN_RATE_LIMIT = os.environ.get("THRIVE_ACCOUNT_LOGIN_RATE_LIMIT", "10 per 15 minutes")
    # How far back the API accepts occurred_at (days); the CLI import is not bound (§13).
    THRIVE_API_MAX_BACKDATE_DAYS = _int_env("THRIVE_API_MAX_BACKDATE_DAYS", 30)
    # Minimum zxcvbn score (0–4) of a new password (NIST SP 800-63B: reject guessable passwords).
    THRIVE_PASSWORD_MIN_SCORE = _int_env("THRIVE_PASSWORD_MIN_SCORE", 3)


class DevConfig(Config):
    """Local development (``make run``): the defaults of :class:`Config`."""


class TestConfig(Config):
    TESTING = True
    WTF_CSRF_ENABLED = True
    RATELIMIT_STORAGE_URI = "memory://"
    SECRET_KEY = "test-secret-key"
    THRIVE_REGISTRY_CACHE_SECONDS = 0
    # Cheap hashing keeps the suite fast; production keeps scrypt (tests/services/accounts/test_passwords.py).
    THRIVE_PASSWORD_HASH_METHOD = "pbkdf2:sha256:1"


class ProductionConfig(Config):
    """Production behind TLS (``THRIVE_CONFIG=production``): secure cookies unless ``THRIVE_SECURE_COOKIES=0``."""

    SESSION_COOKIE_SECURE = os.environ.get("THRIVE_SECURE_COOKIES", "1") == "1"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE


#: ``THRIVE_CONFIG`` values and the configuration class each selects.
CONFIGS: dict[str, type[Config]] = {"development": DevConfig, "production": ProductionConfig, "test": TestConfig}


def config_from_env() -> type[Config]:
    """The configuration class named by ``THRIVE_CONFIG`` (``development`` by default; §3).

    Raises RuntimeError naming the accepted values for anything else, so a typo in a deployment
    fails at startup instead of silently running with development settings.
    """
    name = (os.environ.get("THRIVE_CONFIG") or "development").strip().lower()
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(f"THRIVE_CONFIG={name!r} is not one of: {', '.join(CONFIGS)}") from None
