"""``/healthz`` (the process is up), ``/readyz`` (ready for traffic) and ``/metrics`` (Prometheus, §15).

``/metrics`` is not public: it needs ``Authorization: Bearer <THRIVE_METRICS_TOKEN>``
and answers 404 while no token is configured. All three are exempt from CSRF,
sign-in and rate limits (monitoring polls them).
"""
from __future__ import annotations

import hmac
import time

from flask import Response, current_app, g, jsonify, request

from thrive.extensions import csrf, limiter
from thrive.metrics import REQUEST_SECONDS, exposition
from thrive.services.ops.health import readiness

from . import bp


@bp.get("/healthz")
def healthz():
    """200 while the process answers; touches nothing else."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """200 when the database is reachable, migrations are at head and the scheduler's heartbeat is recent.

    Otherwise 503 with ``failing`` naming each failed check and every check's detail.
    """
    checks = readiness(current_app.extensions["migrate"].directory,
                       current_app.config["THRIVE_READY_HEARTBEAT_MAX_AGE"])
    failing = [c.name for c in checks if not c.ok]
    body = {"status": "ready" if not failing else "not ready", "failing": failing,
            "checks": {c.name: {"ok": c.ok, "detail": c.detail} for c in checks}}
    return jsonify(body), (200 if not failing else 503)


@bp.get("/metrics")
def metrics():
    """Prometheus text format; bearer token ``THRIVE_METRICS_TOKEN`` required (404 when unset, 401 when wrong)."""
    token = current_app.config.get("THRIVE_METRICS_TOKEN")
    if not token:
        return jsonify(error={"code": "not_found", "message": "metrics are disabled"}), 404
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
        response = jsonify(error={"code": "unauthorized", "message": "send 'Authorization: Bearer <metrics token>'"})
        response.headers["WWW-Authenticate"] = 'Bearer realm="thrive-metrics"'
        return response, 401
    payload, content_type = exposition()
    return Response(payload, content_type=content_type)


csrf.exempt(bp)
limiter.exempt(bp)


def _start_timer() -> None:
    g._thrive_request_started = time.perf_counter()


def _observe(response):
    started = g.pop("_thrive_request_started", None)
    if started is not None:
        endpoint = request.endpoint or "unmatched"
        REQUEST_SECONDS.labels(endpoint, request.method, str(response.status_code)).observe(
            time.perf_counter() - started)
    return response


@bp.record_once
def init_request_metrics(state) -> None:
    """Time every request of the app into the per-endpoint latency histogram (on blueprint registration)."""
    state.app.before_request(_start_timer)
    state.app.after_request(_observe)
