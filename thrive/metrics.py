"""Prometheus metrics of a Thrive process (§15), with prometheus-client.

Under gunicorn set ``PROMETHEUS_MULTIPROC_DIR`` to an empty directory (the
client library's multiprocess mode): every worker writes its samples there and
``/metrics`` aggregates all workers (``gunicorn.conf.py`` marks a dead worker's
files). Without it, a single process answers its own samples.

Metrics:

- ``thrive_http_request_duration_seconds{endpoint,method,status}`` — histogram per Flask endpoint;
- ``thrive_awards_total{activity_type,outcome}`` — awards by outcome: awarded, capped, duplicate, rejected;
- ``thrive_job_run_duration_seconds{job,status}`` — histogram of job runs;
- ``thrive_job_runs_failed_total{job}``.
"""
from __future__ import annotations

import os

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

REQUEST_SECONDS = Histogram(
    "thrive_http_request_duration_seconds", "Time to answer an HTTP request, per Flask endpoint.",
    ["endpoint", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
AWARDS = Counter("thrive_awards", "Award requests by activity type and outcome.", ["activity_type", "outcome"])
JOB_SECONDS = Histogram("thrive_job_run_duration_seconds", "Duration of scheduler job runs.", ["job", "status"],
                        buckets=(0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600))
JOB_FAILURES = Counter("thrive_job_runs_failed", "Job runs that failed.", ["job"])


#: (activity type, outcome) → the counter's child: ``labels()`` takes the metric's lock and builds its key on
#: every call, and every award asks (the activity types are the registry's few; bounded all the same).
_award_counters: dict[tuple[str, str], object] = {}


def record_award(activity_type: str, outcome: str, count: int = 1) -> None:
    """Count ``count`` award requests (one by default); ``outcome`` is awarded, capped, duplicate or rejected."""
    label = activity_type[:64] if isinstance(activity_type, str) else "invalid"
    child = _award_counters.get((label, outcome))
    if child is None:
        child = AWARDS.labels(label, outcome)
        if len(_award_counters) < 1024:
            _award_counters[(label, outcome)] = child
    child.inc(count)


def record_award_result(result) -> None:
    """Count an :class:`AwardResult` (awarded, capped or duplicate)."""
    outcome = "duplicate" if result.duplicate else "capped" if result.capped else "awarded"
    record_award(result.activity_type, outcome)


def record_job(job: str, status: str, seconds: float) -> None:
    """Record one finished job run (``status`` succeeded or failed)."""
    JOB_SECONDS.labels(job, status).observe(seconds)
    if status == "failed":
        JOB_FAILURES.labels(job).inc()


def exposition() -> tuple[bytes, str]:
    """The metrics in the Prometheus text format (all gunicorn workers in multiprocess mode)."""
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST


def mark_process_dead(pid: int) -> None:
    """gunicorn ``child_exit`` hook: drop a dead worker's live gauges (multiprocess mode)."""
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)
