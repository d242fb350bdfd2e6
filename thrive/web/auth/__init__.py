"""Accounts: register, sign in, sign out (§15 security); sign-in from the learning platform (issue 13):
OpenID Connect (``oidc``), one-time sign-in links (``links``), embedding settings (``embedding``)."""
from flask import Blueprint

bp = Blueprint("auth", __name__)

from . import links, oidc, views  # noqa: E402,F401
