"""Shared fixtures (STYLE.md): ``app``, ``client``, ``runner``, ``auth``, ``make_learner``, ``api_headers``.

Every test that uses ``app`` runs on SQLite and — when
``THRIVE_TEST_DATABASE_URL`` is set (e.g. ``postgresql://postgres@127.0.0.1/postgres``)
— again on PostgreSQL. The suite creates and drops its own databases:
SQLite files under pytest's tmp dirs (copied from a migrated template),
and one PostgreSQL database per test process (``thrive_test_<random>``),
migrated once and truncated before each test.
"""
from __future__ import annotations

import itertools
import os
import re
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from thrive import create_app
from thrive.config import normalize_database_url
from thrive.extensions import db

PG_ENV = "THRIVE_TEST_DATABASE_URL"
BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get(PG_ENV) else [])
#: The one backend for tests too heavy to run twice (the full OULAD import): PostgreSQL when configured.
HEAVY_BACKEND = BACKENDS[-1]
#: ``@once_on_heavy_backend`` runs a test on :data:`HEAVY_BACKEND` only (instead of every backend).
once_on_heavy_backend = pytest.mark.parametrize("database_url", [HEAVY_BACKEND], indirect=True)
#: ``@layout_matrix_on_sqlite``: browser checks of layout and accessibility repeated per viewport and theme run on
#: SQLite only — what they check (axe, overflow) is rendered markup, the same on both databases; every
#: functional browser test still runs on both.
layout_matrix_on_sqlite = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _memoise_url_builders() -> None:
    """Test-only speed-up: share werkzeug's compiled URL builders between the suite's app instances.

    Every test builds a fresh app, and werkzeug compiles two Python functions per URL rule (through
    ``ast`` and ``compile``) on each — about two thirds of ``create_app``'s cost. A builder depends only
    on the rule's text, its parsed trace, its defaults and ``append_unknown`` (it reaches the rule's
    converters through ``self`` at call time), so builders are cached on exactly that key.
    """
    from werkzeug.routing.rules import Rule

    compile_builder = Rule._compile_builder
    builders: dict[tuple, object] = {}

    def cached(self, append_unknown: bool = True):
        key = (self.rule, self.subdomain, self.host, tuple(self._trace), repr(sorted((self.defaults or {}).items())),
               append_unknown)
        if key not in builders:
            builders[key] = compile_builder(self, append_unknown)
        return builders[key]

    Rule._compile_builder = cached


_memoise_url_builders()


def _migrate(uri: str, *, seed: bool = False) -> None:
    from flask_migrate import upgrade

    from thrive.services.points.registry import seed_defaults

    app = create_app(_config(uri))
    with app.app_context():
        upgrade(revision="heads")
        if seed:
            seed_defaults()
            db.session.remove()
        db.engine.dispose()


def _config(uri: str) -> dict:
    return {"TESTING": True, "SQLALCHEMY_DATABASE_URI": uri, "SECRET_KEY": "test-secret-key"}


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    _migrate(f"sqlite:///{path}", seed=True)
    return path


SEED_SCHEMA = "test_seed"


def _public_tables(conn) -> list[str]:
    return [r[0] for r in conn.execute(text(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
    ))]


def _snapshot_seed(conn) -> list[tuple[str, str | None]]:
    """Copy every seeded table into schema ``test_seed``; return ``[(table, id sequence or None)]``."""
    conn.execute(text(f"CREATE SCHEMA {SEED_SCHEMA}"))
    seeded = []
    for table in _public_tables(conn):
        if conn.execute(text(f'SELECT EXISTS (SELECT 1 FROM "{table}")')).scalar():
            conn.execute(text(f'CREATE TABLE {SEED_SCHEMA}."{table}" AS TABLE public."{table}"'))
            has_id = conn.execute(text(
                "SELECT 1 FROM information_schema.columns"
                " WHERE table_schema = 'public' AND table_name = :t AND column_name = 'id'"), {"t": table}).scalar()
            sequence = conn.execute(text("SELECT pg_get_serial_sequence(:t, 'id')"),
                                    {"t": f'public."{table}"'}).scalar() if has_id else None
            seeded.append((table, sequence))
    return seeded


@pytest.fixture(scope="session")
def pg_database():
    """Create a PostgreSQL database for this test process, migrate and seed it, drop it at the end.

    Yields ``(uri, engine, seeded)``: the seeded defaults are kept in schema ``test_seed`` so that
    :func:`_reset_pg` restores them after emptying the tables (instead of seeding through the ORM per test).
    """
    base = make_url(normalize_database_url(os.environ[PG_ENV]))
    name = f"thrive_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        # A commit need not wait for its WAL flush (~1.5 ms fdatasync here, a few hundred per test): this
        # database is thrown away, and nothing a test can observe depends on durability after a crash.
        conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    uri = base.set(database=name).render_as_string(hide_password=False)
    engine = create_engine(uri)
    try:
        _migrate(uri, seed=True)
        with engine.begin() as conn:
            seeded = _snapshot_seed(conn)
        yield uri, engine, seeded
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n AND pid <> pg_backend_pid()"
            ), {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def _reset_pg(engine, seeded: list[tuple[str, str | None]]) -> None:
    """Empty every table and put the seeded defaults back, as ``seed_defaults()`` on a new database leaves them."""
    with engine.begin() as conn:
        tables = _public_tables(conn)
        if tables:
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        for table, sequence in seeded:
            if table in tables:
                conn.execute(text(f'INSERT INTO public."{table}" SELECT * FROM {SEED_SCHEMA}."{table}"'))
                if sequence:
                    conn.execute(text(f'SELECT setval(:q, (SELECT max(id) FROM public."{table}"))'), {"q": sequence})


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path) -> str:
    """A fresh, migrated database URL holding only the seeded defaults (SQLite file or reset PostgreSQL)."""
    if request.param == "sqlite":
        path = tmp_path / "thrive.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    uri, engine, seeded = request.getfixturevalue("pg_database")
    _reset_pg(engine, seeded)
    return uri


@pytest.fixture
def app_config(database_url) -> dict:
    """Config overrides for the test app; override this fixture to change settings."""
    return _config(database_url)


def invalidate_catalogs() -> None:
    """Drop the per-process snapshots of the rule registry and the quest and achievement catalogs.

    They are cached per database URI for ``THRIVE_REGISTRY_CACHE_SECONDS`` as in production, and a
    PostgreSQL test database keeps its URI from one test to the next while its rows are reset.
    """
    from thrive.services.achievements import catalog as achievements
    from thrive.services.points import registry
    from thrive.services.quests import catalog as quests

    registry.invalidate()
    quests.invalidate()
    achievements.invalidate()


@pytest.fixture
def app(app_config):
    """A seeded Thrive app on a fresh database (defaults of §4.2/§5 present)."""
    from thrive.services.points.registry import seed_defaults

    invalidate_catalogs()
    app = create_app(app_config)
    with app.app_context():
        seed_defaults()
        db.session.remove()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    invalidate_catalogs()


@pytest.fixture
def app_ctx(app):
    with app.app_context():
        yield app
        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_token_from(html: str) -> str:
    """The CSRF token rendered in a page (form field or hx-headers)."""
    m = CSRF_RE.search(html)
    if m:
        return m.group(1) or m.group(2)
    m = re.search(r'"X-CSRFToken": "([^"]+)"', html)
    assert m, "no CSRF token in page"
    return m.group(1)


class AuthActions:
    """Sign in / out through the real forms (CSRF included)."""

    def __init__(self, client):
        self._client = client

    def csrf_token(self, path: str = "/login") -> str:
        return csrf_token_from(self._client.get(path).get_data(as_text=True))

    def login(self, username: str = "learner", password: str = "password123", follow_redirects: bool = False):
        token = self.csrf_token("/login")
        return self._client.post("/login", data={"username": username, "password": password, "csrf_token": token},
                                 follow_redirects=follow_redirects)

    def logout(self):
        token = self.csrf_token("/")
        return self._client.post("/logout", data={"csrf_token": token})


@pytest.fixture
def auth(client):
    return AuthActions(client)


_counter = itertools.count(1)


@pytest.fixture
def make_learner(app):
    """Factory: ``make_learner(username=None, password="password123", **fields) -> Learner`` (committed)."""
    from thrive.services.accounts.learners import create_learner

    def factory(username: str | None = None, password: str | None = "password123", **fields):
        username = username or f"learner{next(_counter)}"
        with app.app_context():
            learner = create_learner(username, fields.pop("display_name", None) or username.title(),
                                     password=password, **fields)
            learner_id = learner.id
            db.session.remove()
        with app.app_context():
            from thrive.models import Learner

            learner = db.session.get(Learner, learner_id)
            db.session.expunge_all()
            return learner

    return factory


@pytest.fixture
def api_key(app) -> str:
    """A fresh plaintext API key."""
    from thrive.services.accounts.api_keys import create_api_key

    with app.app_context():
        _row, plaintext = create_api_key("tests")
        db.session.remove()
    return plaintext


@pytest.fixture
def api_headers(api_key) -> dict:
    return {"Authorization": f"Bearer {api_key}"}
