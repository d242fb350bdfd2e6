"""Configuration selection (issue 7 item 7): ``THRIVE_CONFIG`` picks the class that wsgi and the scheduler use."""
from __future__ import annotations

import pytest

from thrive import create_app
from thrive.config import DevConfig, ProductionConfig, TestConfig, config_from_env


@pytest.mark.parametrize(("value", "expected"), [(None, DevConfig), ("development", DevConfig),
                                                  ("production", ProductionConfig), (" Production ", ProductionConfig),
                                                  ("test", TestConfig)])
def test_thrive_config_selects_the_class(monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv("THRIVE_CONFIG", raising=False)
    else:
        monkeypatch.setenv("THRIVE_CONFIG", value)
    assert config_from_env() is expected


def test_unknown_config_name_is_a_clear_startup_error(monkeypatch):
    monkeypatch.setenv("THRIVE_CONFIG", "prod")
    with pytest.raises(RuntimeError, match="THRIVE_CONFIG='prod' is not one of: development, production, test"):
        config_from_env()


def test_create_app_without_arguments_uses_thrive_config(monkeypatch, tmp_path):
    monkeypatch.setenv("THRIVE_CONFIG", "production")
    monkeypatch.setenv("SECRET_KEY", "a-production-secret-for-this-test-only")
    monkeypatch.setenv("THRIVE_SECURE_COOKIES", "1")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'prod.db'}")
    import importlib

    import thrive.config

    importlib.reload(thrive.config)   # class attributes read the environment at import time
    try:
        app = create_app()
        assert app.config["SESSION_COOKIE_SECURE"] is True
        assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("prod.db")
    finally:
        monkeypatch.undo()
        importlib.reload(thrive.config)
