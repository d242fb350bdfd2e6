"""Fixtures for the admin area: staff accounts and signing in as them."""
from __future__ import annotations

import pytest

from tests.conftest import csrf_token_from


@pytest.fixture
def admin_user(make_learner):
    return make_learner("boss", staff_role="admin")


@pytest.fixture
def moderator_user(make_learner):
    return make_learner("mod", staff_role="moderator")


@pytest.fixture
def as_admin(client, auth, admin_user):
    """The client signed in as an admin."""
    auth.login("boss")
    return client


@pytest.fixture
def as_moderator(client, auth, moderator_user):
    auth.login("mod")
    return client


def admin_token(client, path: str = "/admin/api-keys") -> str:
    """The CSRF token of an admin page (the session's token)."""
    return csrf_token_from(client.get(path).get_data(as_text=True))
