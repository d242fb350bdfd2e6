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
    # The community feed's Everyone window, per process (seconds; 0 = read at every request). New activity
    # shows up to this late; privacy switches and moderation apply at once (services/community/feed.py).
    THRIVE_FEED_CACHE_SECONDS = _int_env("THRIVE_FEED_CACHE_SECONDS", 30)
    THRIVE_JOB_STALE_SECONDS = _int_env("THRIVE_JOB_STALE_SECONDS", 6 * 3600)

    # API batch limit (§13)
    THRIVE_API_BATCH_MAX = 1000

    # --- admin area (§11) ---
    # How long the admin dashboard's aggregates are cached in-process (seconds; 0 = never cached).
    THRIVE_ADMIN_DASHBOARD_CACHE_SECONDS = _int_env("THRIVE_ADMIN_DASHBOARD_CACHE_SECONDS", 60)
    # --- Sign-in from the learning platform (§0, §7, §13; issue 13; README "Signing in") ---
    # OpenID Connect: on when THRIVE_OIDC_ISSUER is set (discovery at <issuer>/.well-known/openid-configuration).
    THRIVE_OIDC_ISSUER = os.environ.get("THRIVE_OIDC_ISSUER") or None
    THRIVE_OIDC_CLIENT_ID = os.environ.get("THRIVE_OIDC_CLIENT_ID") or None
    THRIVE_OIDC_CLIENT_SECRET = os.environ.get("THRIVE_OIDC_CLIENT_SECRET") or None
    THRIVE_OIDC_SCOPES = os.environ.get("THRIVE_OIDC_SCOPES", "openid profile email")
    # Which claim holds the platform's user id (= the external id of PUT /api/v1/users/<external_id>),
    # and the claims of the profile fields the platform owns (refreshed at each sign-in; "" = not taken).
    THRIVE_OIDC_EXTERNAL_ID_CLAIM = os.environ.get("THRIVE_OIDC_EXTERNAL_ID_CLAIM", "sub")
    THRIVE_OIDC_USERNAME_CLAIM = os.environ.get("THRIVE_OIDC_USERNAME_CLAIM", "preferred_username")
    THRIVE_OIDC_DISPLAY_NAME_CLAIM = os.environ.get("THRIVE_OIDC_DISPLAY_NAME_CLAIM", "name")
    THRIVE_OIDC_EMAIL_CLAIM = os.environ.get("THRIVE_OIDC_EMAIL_CLAIM", "email")
    THRIVE_OIDC_TIMEZONE_CLAIM = os.environ.get("THRIVE_OIDC_TIMEZONE_CLAIM", "zoneinfo")
    # The button reads "Sign in with <THRIVE_OIDC_PLATFORM_NAME>".
    THRIVE_OIDC_PLATFORM_NAME = os.environ.get("THRIVE_OIDC_PLATFORM_NAME", "your learning platform")
    # Seconds to wait for the provider (discovery, token and key requests).
    THRIVE_OIDC_TIMEOUT = _int_env("THRIVE_OIDC_TIMEOUT", 10)
    # 0 closes local registration and password sign-in (the platform is the only door).
    THRIVE_LOCAL_ACCOUNTS = os.environ.get("THRIVE_LOCAL_ACCOUNTS", "1") != "0"
    # One-time sign-in links (POST /api/v1/users/<external_id>/sign-in-links): lifetime in seconds, and the
    # public base URL the links start with (default: the host the API request came to).
    THRIVE_SIGN_IN_LINK_SECONDS = _int_env("THRIVE_SIGN_IN_LINK_SECONDS", 300)
    THRIVE_PUBLIC_URL = os.environ.get("THRIVE_PUBLIC_URL") or None
    # Embedding: space-separated CSP frame-ancestors sources (e.g. "https://learn.example.org"); empty = 'none'.
    # When set, session and remember cookies become SameSite=None; Secure (they must reach a framed page).
    THRIVE_FRAME_ANCESTORS = os.environ.get("THRIVE_FRAME_ANCESTORS", "")
    # --- Learner experience (issue 11) ---
    # Circle goals: the median of the circle's last N weekly totals × this percent (§6.1: a stretch).
    THRIVE_CIRCLE_GOAL_WEEKS = _int_env("THRIVE_CIRCLE_GOAL_WEEKS", 4)
    THRIVE_CIRCLE_GOAL_STRETCH_PERCENT = _int_env("THRIVE_CIRCLE_GOAL_STRETCH_PERCENT", 100)
    # "history" (above) or "per_member" (members × THRIVE_CIRCLE_GOAL_PER_MEMBER, predictable: used by tests).
    THRIVE_CIRCLE_GOAL_SIZING = os.environ.get("THRIVE_CIRCLE_GOAL_SIZING", "history")
    # Static CSS/JS/SVG compressed by the app (Flask-Compress, thrive/web/compression.py); 0 behind a proxy that
    # compresses. THRIVE_GZIP_STATIC is the older name, still read.
    THRIVE_COMPRESS_STATIC = (os.environ.get("THRIVE_COMPRESS_STATIC") or os.environ.get("THRIVE_GZIP_STATIC", "1")
                              ).strip().lower() not in ("0", "false", "no", "off")
    # --- operations (issue 12): /metrics bearer token (unset = /metrics answers 404) and the
    # scheduler heartbeat age /readyz accepts (seconds; the scheduler beats every 60 s).
    THRIVE_METRICS_TOKEN = os.environ.get("THRIVE_METRICS_TOKEN") or None
    THRIVE_READY_HEARTBEAT_MAX_AGE = _int_env("THRIVE_READY_HEARTBEAT_MAX_AGE", 180)
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
    # As in production: every admin edit invalidates it (tests that edit rows directly call invalidate()).
    THRIVE_REGISTRY_CACHE_SECONDS = 5
    # Cheap hashing keeps the suite fast; production keeps scrypt (tests/services/accounts/test_passwords.py).
    THRIVE_PASSWORD_HASH_METHOD = "pbkdf2:sha256:1"
    THRIVE_ADMIN_DASHBOARD_CACHE_SECONDS = 0  # admin dashboard: always fresh in tests
    THRIVE_FEED_CACHE_SECONDS = 0  # the feed reads its window at every request (the cache has its own tests)
    # Circle mechanics tests expect members × goal per member; sizing from history has its own tests.
    THRIVE_CIRCLE_GOAL_SIZING = "per_member"


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
