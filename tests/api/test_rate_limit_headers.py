"""The per-key rate limit in one storage round trip: limits and X-RateLimit-* headers unchanged (§13, §15)."""
from __future__ import annotations

import time

import pytest

from thrive.extensions import limiter
from thrive.ratelimit import OneTripFixedWindow

from .conftest import assert_error

REDIS_URL = "redis://127.0.0.1:6379/14"


def _redis_up() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def _walk_the_limit(client, api_headers) -> None:
    """3 per minute: Remaining 2, 1, 0 with a Reset within the minute, then a 429 with Retry-After."""
    for remaining in (2, 1, 0):
        response = client.get("/api/v1/users/x", headers=api_headers)
        assert response.status_code == 404
        assert response.headers["X-RateLimit-Limit"] == "3"
        assert response.headers["X-RateLimit-Remaining"] == str(remaining)
        assert time.time() < int(response.headers["X-RateLimit-Reset"]) <= time.time() + 62
    response = client.get("/api/v1/users/x", headers=api_headers)
    assert_error(response, 429, "rate_limited")
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert 0 < int(response.headers["Retry-After"]) <= 61


class TestMemoryStorage:
    @pytest.fixture
    def app_config(self, app_config, database_url):  # database_url: keeps the backend parametrization
        return {**app_config, "THRIVE_API_RATE_LIMIT": "3 per minute"}

    def test_the_strategy_is_the_one_trip_fixed_window(self, app):
        assert isinstance(limiter.limiter, OneTripFixedWindow)

    def test_headers_count_down_then_429(self, client, api_headers):
        _walk_the_limit(client, api_headers)

    def test_requests_without_a_valid_key_are_limited_per_address(self, client, api_headers):
        bad = {"Authorization": "Bearer thr_000000000000_wrongsecret"}
        for _ in range(3):
            assert_error(client.get("/api/v1/users/x", headers=bad), 401, "unauthorized")
        assert_error(client.get("/api/v1/openapi.json"), 429, "rate_limited")  # the public document too
        assert client.get("/api/v1/users/x", headers=api_headers).status_code == 404  # a key has its own bucket

    def test_every_answer_carries_the_headers(self, client, api_headers):
        response = client.post("/api/v1/events", json={"user": "nobody"}, headers=api_headers)
        assert response.status_code == 400 and response.headers["X-RateLimit-Remaining"] == "2"

    def test_disabled_limiter_counts_nothing(self, app, client, api_headers):
        app.config["RATELIMIT_ENABLED"] = False
        for _ in range(5):
            response = client.get("/api/v1/users/x", headers=api_headers)
            assert response.status_code == 404 and "X-RateLimit-Limit" not in response.headers


class TestSeveralLimits:
    @pytest.fixture
    def app_config(self, app_config, database_url):
        return {**app_config, "THRIVE_API_RATE_LIMIT": "100 per hour; 3 per minute"}

    def test_smallest_window_in_the_headers_and_first_exceeded_in_the_429(self, client, api_headers):
        _walk_the_limit(client, api_headers)


@pytest.mark.skipif(not _redis_up(), reason=f"no Redis at {REDIS_URL}")
class TestRedisStorage:
    @pytest.fixture
    def app_config(self, app_config, database_url):
        # Each test's API key is new: its bucket starts empty in the shared Redis.
        return {**app_config, "THRIVE_API_RATE_LIMIT": "3 per minute", "RATELIMIT_STORAGE_URI": REDIS_URL}

    def test_headers_count_down_then_429(self, client, api_headers):
        _walk_the_limit(client, api_headers)

    def test_one_redis_command_per_request(self, app, client, api_headers, monkeypatch):
        import redis

        client.get("/api/v1/users/x", headers=api_headers)  # the script is loaded into Redis
        commands = []
        original = redis.Redis.execute_command

        def counting(self, *args, **options):
            commands.append(args[0])
            return original(self, *args, **options)

        monkeypatch.setattr(redis.Redis, "execute_command", counting)
        response = client.get("/api/v1/users/x", headers=api_headers)
        assert response.headers["X-RateLimit-Remaining"] == "1"
        assert commands == ["EVALSHA"]

    def test_counter_is_limits_fixed_window_key(self, client, api_key, api_headers):
        """The same Redis key and counter as limits' own fixed window (the two strategies can share a Redis)."""
        client.get("/api/v1/users/x", headers=api_headers)
        response = client.get("/api/v1/users/x", headers=api_headers)
        assert response.headers["X-RateLimit-Remaining"] == "1"
        storage = limiter.limiter.storage
        bucket = f"api-key:{api_key.split('_')[1]}/".encode()
        keys = [k for k in storage.get_connection().keys("*") if bucket in k]
        assert len(keys) == 1 and keys[0].startswith(storage.prefixed_key("").encode())
        assert int(storage.get_connection().get(keys[0])) == 2
        assert storage.get_connection().ttl(keys[0]) > 0


def test_api_answers_are_never_stored(client, api_headers):
    """API answers hold learner data for a bearer key: no-store, decided by the path (no session look-up)."""
    assert client.get("/api/v1/users/x", headers=api_headers).headers["Cache-Control"] == "no-store"
    assert client.get("/api/v1/openapi.json").headers["Cache-Control"] == "no-store"
