"""Thrive: participation-based progression and community for a learning platform.

``create_app(config)`` builds the Flask app as a list of ``init_*`` steps;
it never migrates the database (``flask db upgrade`` does, §3).
"""
from __future__ import annotations

import os

from flask import Flask

from .config import Config, TestConfig, config_from_env, normalize_database_url


def create_app(config: type[Config] | dict | None = None) -> Flask:
    """Build the app.

    ``config`` is a config class, a mapping of overrides (on top of
    :class:`Config`, or :class:`TestConfig` when it sets ``TESTING``), or None for the class that
    ``THRIVE_CONFIG`` names (:func:`~thrive.config.config_from_env`: development, production or test).
    """
    app = Flask(__name__, instance_relative_config=True, template_folder="../templates",
                static_folder="../static")
    if isinstance(config, dict):
        app.config.from_object(TestConfig if config.get("TESTING") else Config)
        app.config.update(config)
    else:
        app.config.from_object(config or config_from_env())
    os.makedirs(app.instance_path, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        if not (app.config.get("TESTING") or app.debug):
            raise RuntimeError(
                "SECRET_KEY is not set. Thrive refuses to start with a guessable key (anyone could forge a "
                "sign-in cookie). Set SECRET_KEY to a long random value, e.g. "
                "`export SECRET_KEY=$(python -c 'import secrets; print(secrets.token_hex(32))')`; "
                "`make run` keeps one in instance/secret_key."
            )
        app.config["SECRET_KEY"] = os.urandom(32).hex()  # debug/tests: random per process
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(app.instance_path, "thrive.db")
    app.config["SQLALCHEMY_DATABASE_URI"] = normalize_database_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        engine_options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        engine_options.setdefault("connect_args", {"timeout": 60, "check_same_thread": False})
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options
    else:
        engine_options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        # Connections are recycled every 30 minutes; pre-ping (a round trip per
        # checkout) only when THRIVE_DB_PRE_PING=1 (e.g. behind a flaky proxy).
        engine_options.setdefault("pool_pre_ping", bool(app.config.get("THRIVE_DB_PRE_PING")))
        engine_options.setdefault("pool_recycle", 1800)
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options

    if app.config.get("THRIVE_PROXY_HOPS"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Behind N trusted proxies: client address and scheme from X-Forwarded-For/-Proto (rate limits, §15).
        hops = int(app.config["THRIVE_PROXY_HOPS"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    init_extensions(app)
    init_services(app)
    init_blueprints(app)
    init_web(app)
    init_cli(app)
    return app


def init_extensions(app: Flask) -> None:
    from . import db as _db_events  # noqa: F401  (registers SQLite connection events)
    from . import models  # noqa: F401  (registers models with the metadata)
    from .extensions import csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"),
                     render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_user(user_id: str):
        from .web.hooks import load_request_learner

        return load_request_learner(user_id)


#: Service modules that register award hooks (weekly goal, circle progress…) on import.
HOOKED_SERVICES: list[str] = [
    "thrive.services.community.cheers",
    "thrive.services.weekly.goals.progress",
    "thrive.services.weekly.circles.goal",
    "thrive.services.quests.progress",
    "thrive.services.achievements.grants",
]


def init_services(app: Flask) -> None:
    import importlib

    for name in HOOKED_SERVICES:
        importlib.import_module(name)


def init_blueprints(app: Flask) -> None:
    import importlib

    from .web import params

    params.init_app(app)  # bounded <int:…> URL segments (before any route is added)
    from .web.api import bp as api_bp
    from .web.auth import bp as auth_bp
    from .web.home import bp as home_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(home_bp)
    from .web.community import bp as community_bp
    app.register_blueprint(community_bp)
    from .web.notifications import bp as notifications_bp
    app.register_blueprint(notifications_bp)
    from .web.journey import bp as journey_bp
    app.register_blueprint(journey_bp)
    from .web.settings import bp as settings_bp
    app.register_blueprint(settings_bp)
    from .web.goals import bp as goals_bp
    app.register_blueprint(goals_bp)
    from .web.circles import bp as circles_bp
    app.register_blueprint(circles_bp)
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    from .web.admin import bp as admin_bp
    app.register_blueprint(admin_bp)
    app.register_blueprint(importlib.import_module("thrive.web.quests").bp)  # side quests (§10)
    app.register_blueprint(importlib.import_module("thrive.web.achievements").bp)  # achievements (§10)
    from .web.ops import bp as ops_bp  # /healthz /readyz /metrics
    app.register_blueprint(ops_bp)


def init_web(app: Flask) -> None:
    from .web import compression, hooks, i18n, layout, presentation, transactions, urls

    compression.init_app(app)
    hooks.init_app(app)
    i18n.init_app(app)
    presentation.init_app(app)
    layout.init_app(app)
    urls.init_app(app)
    transactions.init_app(app)


def init_cli(app: Flask) -> None:
    from .cli import thrive_cli

    app.cli.add_command(thrive_cli)
