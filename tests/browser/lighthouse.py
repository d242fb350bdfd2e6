"""Lighthouse (npm ``lighthouse``, pinned in package.json) against Debian's Chromium, for a test and a benchmark.

Used by ``tests/browser/test_lighthouse.py`` (accessibility, best practices and SEO
≥ 0.95 on home, community and journey; issue 11) and ``benchmarks/bench_lighthouse.py``
(the performance category, which depends on the machine's load).

- :func:`session_cookie` signs a learner in through the real login form (GET the form
  for its CSRF token, POST it) and returns the ``Cookie`` header value of that session.
- :func:`run_lighthouse` runs the CLI (``node_modules/.bin/lighthouse``) once on one URL,
  with ``CHROME_PATH`` set to Chromium and the session passed as an extra ``Cookie``
  header (Lighthouse sends it with every request of the page), and returns the parsed
  report (Lighthouse's "LHR" JSON).
- :func:`category_scores`, :func:`failing_audits`, :func:`key_metrics` read a report.

Lighthouse's default form factor is used: a mobile device (Moto G Power emulation,
simulated slow 4G and 4× CPU slowdown for performance).
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from pathlib import Path

from tenacity import retry, retry_if_exception_type, stop_after_attempt

ROOT = Path(__file__).resolve().parents[2]
LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
CHROMIUM = os.environ.get("THRIVE_CHROMIUM", "/usr/bin/chromium")
CHROME_FLAGS = "--headless --no-sandbox --disable-gpu --disable-background-networking"
#: Seconds one Lighthouse run may take before it is stopped (a loaded 2-core machine is slow).
TIMEOUT = 300


class LighthouseError(RuntimeError):
    """Lighthouse could not produce a report (missing binary, crash, time-out, page error)."""


class LighthouseFlake(LighthouseError):
    """A run Lighthouse itself asks to repeat ("… Please run Lighthouse again", e.g. NO_NAVSTART: its trace
    recording missed the navigation's start); :func:`run_lighthouse` repeats it."""


#: Lighthouse's wording for a failed trace recording it asks to run again.
RUN_AGAIN = "Please run Lighthouse again"


def missing_tools() -> str | None:
    """Why Lighthouse cannot run here (a sentence), or None when the CLI and Chromium are present."""
    if not LIGHTHOUSE.exists():
        return f"{LIGHTHOUSE} is missing: run `make setup` (npm ci installs the pinned lighthouse)"
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} not found: install Debian's chromium package"
    return None


def session_cookie(base_url: str, username: str, password: str) -> str:
    """Sign ``username`` in at ``base_url`` through the login form; return the session's ``Cookie`` header value.

    Raises LighthouseError when the form has no CSRF token or the sign-in is refused.
    """
    import requests

    with requests.Session() as http:
        form = http.get(f"{base_url}/login", timeout=30)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form.text)
        if not token:
            raise LighthouseError("the login page has no csrf_token field")
        signed_in = http.post(f"{base_url}/login", timeout=60, allow_redirects=False,
                              data={"csrf_token": token.group(1), "username": username, "password": password})
        if signed_in.status_code != 302 or "/login" in signed_in.headers.get("Location", ""):
            raise LighthouseError(f"sign-in as {username!r} failed (HTTP {signed_in.status_code})")
        return "; ".join(f"{c.name}={c.value}" for c in http.cookies)


@retry(retry=retry_if_exception_type(LighthouseFlake), stop=stop_after_attempt(3), reraise=True)
def run_lighthouse(url: str, categories: list[str], *, cookie: str | None = None,
                   timeout: int = TIMEOUT) -> dict:
    """Run Lighthouse on ``url`` (mobile, the default form factor) for ``categories``; return the report.

    ``categories`` are Lighthouse category ids (``accessibility``, ``best-practices``,
    ``seo``, ``performance``). ``cookie`` is sent as a ``Cookie`` header with every
    request. A run Lighthouse asks to repeat (:class:`LighthouseFlake`) is repeated, up to
    three runs in all. Raises LighthouseError when no report is produced or the page failed
    to load (``runtimeError`` in the report).
    """
    problem = missing_tools()
    if problem:
        raise LighthouseError(problem)
    with tempfile.TemporaryDirectory(prefix="thrive-lighthouse-") as tmp:
        out = Path(tmp) / "report.json"
        cmd = [str(LIGHTHOUSE), url, "--output=json", f"--output-path={out}", "--quiet",
               f"--only-categories={','.join(categories)}", f"--chrome-flags={CHROME_FLAGS}",
               "--max-wait-for-load=60000"]
        if cookie:
            headers = Path(tmp) / "headers.json"
            headers.write_text(json.dumps({"Cookie": cookie}), encoding="utf-8")
            cmd.append(f"--extra-headers={headers}")
        env = {**os.environ, "CHROME_PATH": CHROMIUM, "TMPDIR": tmp}
        try:
            done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise LighthouseError(f"lighthouse took longer than {timeout} s on {url}") from exc
        if done.returncode != 0 or not out.exists():
            error = LighthouseFlake if RUN_AGAIN in done.stderr else LighthouseError
            raise error(f"lighthouse exited with {done.returncode} on {url}:\n{done.stderr[-3000:]}")
        report = json.loads(out.read_text(encoding="utf-8"))
    if report.get("runtimeError"):
        error = LighthouseFlake if RUN_AGAIN in str(report["runtimeError"]) else LighthouseError
        raise error(f"lighthouse could not load {url}: {report['runtimeError']}")
    final = report.get("finalDisplayedUrl") or report.get("finalUrl") or ""
    if "/login" in final and "/login" not in url:
        raise LighthouseError(f"{url} redirected to the sign-in page: the session cookie was not accepted")
    return report


def category_scores(report: dict) -> dict[str, float | None]:
    """``{category id: score 0–1}`` of a report (None when Lighthouse could not score it)."""
    return {key: cat.get("score") for key, cat in report["categories"].items()}


def failing_audits(report: dict, category: str) -> list[str]:
    """Readable lines for each audit of ``category`` that scored below 1 (weighted audits first).

    Each line: ``[weight] id: title (score) — up to three offending items``.
    """
    audits = report["audits"]
    lines = []
    refs = sorted(report["categories"][category]["auditRefs"], key=lambda r: -r.get("weight", 0))
    for ref in refs:
        audit = audits.get(ref["id"], {})
        score, mode = audit.get("score"), audit.get("scoreDisplayMode")
        if mode in ("notApplicable", "manual", "informative") or score is None or score >= 1:
            continue
        line = f"[{ref.get('weight', 0)}] {ref['id']}: {audit.get('title')} (score {score})"
        items = (audit.get("details") or {}).get("items") or []
        for item in items[:3]:
            node = item.get("node") or {}
            what = node.get("snippet") or item.get("description") or item.get("url") or item.get("source") or item
            line += f"\n      - {str(what)[:200]}"
        lines.append(line)
    return lines


def key_metrics(report: dict) -> dict[str, float | None]:
    """The report's FCP, LCP and TBT in milliseconds and CLS (unitless); None when not measured."""
    audits = report["audits"]

    def value(audit_id: str) -> float | None:
        return (audits.get(audit_id) or {}).get("numericValue")

    return {"FCP": value("first-contentful-paint"), "LCP": value("largest-contentful-paint"),
            "TBT": value("total-blocking-time"), "CLS": value("cumulative-layout-shift")}
