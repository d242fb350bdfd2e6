"""A property-based fuzzer driven by /api/v1/openapi.json against a live server (issue 10, §13).

schemathesis (pinned) generates requests for every documented operation and
sends them with a real API key to the app served by werkzeug in a thread; no
answer may be a 5xx, and every answer must conform to the document (status
code declared, content type, response body schema). The run is bounded to
``FUZZ_SECONDS`` (about a minute) in total.
"""
from __future__ import annotations

import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings
from werkzeug.serving import make_server

schemathesis = pytest.importorskip("schemathesis")  # pinned in the test extra; always installed by make setup
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

FUZZ_SECONDS = 60
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def live_api(app, api_headers):
    app.config["RATELIMIT_ENABLED"] = False
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


def test_api_conforms_to_its_openapi_document(live_api, api_headers):
    import requests

    base = live_api
    # some learners exist, so generated ids sometimes hit one
    for ext in ("lms-1", "a", "0"):
        requests.put(f"{base}/api/v1/users/{ext}", json={"username": f"user-{ext}x"}, headers=api_headers,
                     timeout=10)
    schema = schemathesis.openapi.from_url(f"{base}/api/v1/openapi.json", headers=api_headers)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 6
    deadline = time.monotonic() + FUZZ_SECONDS
    per_operation = FUZZ_SECONDS / len(operations)
    failures: list[str] = []
    calls = [0]
    for operation in operations:
        _fuzz(operation, base, api_headers, min(deadline, time.monotonic() + per_operation), failures, calls)
    assert not failures, "\n\n".join(dict.fromkeys(failures))
    assert calls[0] > 50, "the fuzzer sent too few requests to mean anything"


def _fuzz(operation, base: str, headers: dict, stop_at: float, failures: list[str], calls: list[int]) -> None:
    """Send generated cases for one operation until ``stop_at`` (monotonic); record failures."""
    label = f"{operation.method.upper()} {operation.path}"

    @given(case=operation.as_strategy())
    @settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def run(case):
        if time.monotonic() > stop_at:
            return
        calls[0] += 1
        case.call_and_validate(base_url=base, headers=headers, checks=CHECKS, timeout=10)

    try:
        run()
    except Exception as exc:  # hypothesis re-raises the shrunk failure; keep going with the others
        failures.append(f"{label}: {type(exc).__name__}: {exc!s:.1500}")
