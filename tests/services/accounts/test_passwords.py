"""Password hashing (§15): production hashes with scrypt; the test config only makes it cheap."""
from __future__ import annotations

from thrive import create_app
from thrive.config import Config, TestConfig
from thrive.services.accounts.learners import hash_password, password_method


def test_production_config_hashes_with_scrypt(tmp_path):
    assert getattr(Config, "THRIVE_PASSWORD_HASH_METHOD", None) in (None, "scrypt")

    class Production(Config):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'p.db'}"
        SECRET_KEY = "x" * 32

    app = create_app(Production)
    with app.app_context():
        assert password_method() == "scrypt"
        assert hash_password("correct horse battery").startswith("scrypt:")


def test_the_suite_uses_a_cheap_hash_that_still_verifies(app):
    from werkzeug.security import check_password_hash

    assert TestConfig.THRIVE_PASSWORD_HASH_METHOD.startswith("pbkdf2")
    with app.app_context():
        hashed = hash_password("password123")
        assert hashed.startswith("pbkdf2:sha256:1$")
        assert check_password_hash(hashed, "password123") and not check_password_hash(hashed, "password124")
