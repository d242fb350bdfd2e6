"""Rate limits behind a proxy, on registration and per account (issue 10 defect 9, §15)."""
from __future__ import annotations

import pytest

from tests.conftest import csrf_token_from
from thrive import create_app


def _post_login(client, address: str, username: str = "learner", password: str = "wrong-password"):
    token = csrf_token_from(client.get("/login", headers={"X-Forwarded-For": address}).get_data(as_text=True))
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token},
                       headers={"X-Forwarded-For": address})


@pytest.fixture
def proxied_app(app_config):
    from thrive.extensions import db
    from thrive.services.points.registry import seed_defaults

    app = create_app({**app_config, "THRIVE_PROXY_HOPS": 1})
    with app.app_context():
        seed_defaults()
        db.session.remove()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_proxy_hops_give_each_client_its_own_address_and_accounts_their_own_budget(proxied_app):
    from thrive.services.accounts.learners import create_learner

    with proxied_app.app_context():
        create_learner("learner", password="password123")
        create_learner("other", password="password123")
    client = proxied_app.test_client()
    # 10 failed attempts on one account from 10 addresses: the per-address limit never trips...
    statuses = [_post_login(client, f"203.0.113.{i}").status_code for i in range(10)]
    assert statuses == [400] * 10
    # ...but the account's own budget does, from any address
    assert _post_login(client, "198.51.100.7").status_code == 429
    assert _post_login(client, "198.51.100.7", password="password123").status_code == 429
    # another account from the same proxy is unaffected (without ProxyFix all share one address)
    assert _post_login(client, "198.51.100.8", username="other", password="password123").status_code == 302


def test_registration_is_rate_limited(client):
    statuses = []
    for i in range(7):
        token = csrf_token_from(client.get("/register").get_data(as_text=True))
        statuses.append(client.post("/register", data={"username": f"x{i}", "csrf_token": token}).status_code)
    assert statuses[:5] == [400] * 5 and statuses[-1] == 429


def test_every_declared_limit_is_on_writes_only(app):
    """GET and HEAD requests skip Flask-Limiter (``thrive/extensions.py``): no declared limit may cover them."""
    from thrive.extensions import limiter

    manager = limiter.limit_manager
    assert not manager._default_limits and not manager._application_limits and not manager._blueprint_limits
    declared = [group for groups in manager._decorated_limits.values() for group in groups]
    assert declared, "the sign-in and registration limits are declared"
    for group in declared:
        assert group.methods and not {m.upper() for m in group.methods} & {"GET", "HEAD"}


def test_pages_are_not_rate_limited_and_sign_in_still_is(app, client):
    app.config["THRIVE_LOGIN_RATE_LIMIT"] = "2 per minute"
    for _ in range(5):
        assert client.get("/login").status_code == 200
    statuses = [_post_login(client, "203.0.113.9", "nobody").status_code for _ in range(4)]
    assert statuses[-1] == 429
