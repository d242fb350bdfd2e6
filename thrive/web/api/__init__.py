"""Integration API ``/api/v1`` (§13): JSON, ``Authorization: Bearer <api key>``.

``auth`` checks the key and rate limits per key, ``views`` holds the
event endpoints, ``users`` the learner endpoints, ``schemas`` the marshmallow schemas they share with the OpenAPI
document built by ``openapi``. The blueprint is CSRF-exempt (no cookies, a
bearer key instead).
"""
from flask import Blueprint

bp = Blueprint("api", __name__)

from . import auth, data_requests, sign_in_links, users, views  # noqa: E402,F401  (register hooks and routes on bp)
