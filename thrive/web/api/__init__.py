"""Integration API ``/api/v1`` (§13)."""
from flask import Blueprint

bp = Blueprint("api", __name__)
