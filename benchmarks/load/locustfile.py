"""Locust scenario for ``benchmarks/bench_load.py`` (issue 12): learners browsing with HTMX polls + the API.

Environment (set by bench_load.py): ``THRIVE_LOAD_USERS`` (comma-separated usernames, password
``THRIVE_LOAD_PASSWORD``), ``THRIVE_LOAD_EXTERNAL_IDS``, ``THRIVE_LOAD_API_KEY`` and
``THRIVE_LOAD_EVENTS_PER_S`` (total API events per second, spread over the API users).
"""
from __future__ import annotations

import itertools
import os
import re
import uuid

from locust import HttpUser, between, constant_throughput, task

USERS = os.environ.get("THRIVE_LOAD_USERS", "").split(",")
PASSWORD = os.environ.get("THRIVE_LOAD_PASSWORD", "")
EXTERNAL_IDS = os.environ.get("THRIVE_LOAD_EXTERNAL_IDS", "").split(",")
API_KEY = os.environ.get("THRIVE_LOAD_API_KEY", "")
API_USERS = int(os.environ.get("THRIVE_LOAD_API_USERS", "10"))
EVENTS_PER_S = float(os.environ.get("THRIVE_LOAD_EVENTS_PER_S", "100"))
_next_user = itertools.count()
_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
HTMX = {"HX-Request": "true"}


class Learner(HttpUser):
    """Signs in, opens home and community, then polls their HTMX panels like the browser does."""

    weight = 20
    wait_time = between(5, 15)

    def on_start(self):
        username = USERS[next(_next_user) % len(USERS)]
        page = self.client.get("/login", name="GET /login")
        match = _TOKEN.search(page.text)
        self.client.post("/login", data={"username": username, "password": PASSWORD,
                                         "csrf_token": match.group(1) if match else ""}, name="POST /login")

    @task(2)
    def home(self):
        self.client.get("/", name="GET /")

    @task(1)
    def community(self):
        self.client.get("/community", name="GET /community")

    @task(6)
    def home_polls(self):
        for path in ("/panels/status", "/notifications/bell", "/panels/goals"):
            self.client.get(path, headers=HTMX, name=f"HTMX {path}")

    @task(3)
    def community_polls(self):
        for path in ("/community/feed", "/community/stats", "/panels/circle"):
            self.client.get(path, headers=HTMX, name=f"HTMX {path}")


class Integration(HttpUser):
    """POST /api/v1/events at a fixed total rate (constant throughput per API user)."""

    weight = 1
    fixed_count = API_USERS
    wait_time = constant_throughput(EVENTS_PER_S / max(API_USERS, 1))

    @task
    def event(self):
        user = EXTERNAL_IDS[hash(uuid.uuid4()) % len(EXTERNAL_IDS)]
        self.client.post("/api/v1/events", json={"user": user, "activity_type": "comment_posted",
                                                 "event_key": f"load:{uuid.uuid4()}"},
                         headers={"Authorization": f"Bearer {API_KEY}"}, name="POST /api/v1/events")
