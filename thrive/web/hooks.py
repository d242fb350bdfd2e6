"""App-wide request hooks: daily login award, security headers, errors (§4.2, §7, §15)."""
from __future__ import annotations

from flask import Flask, g, has_request_context, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import event
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from thrive.services.errors import ThriveError

from ..timeutil import as_utc, local_date, utcnow

#: Content-Security-Policy (§15): scripts only from our own files (no inline
#: script, no eval — htmx runs with ``allowEval: false``); inline *style
#: attributes* stay allowed for data-driven colours (tier colours). Workers are
#: not needed (confetti runs on the page's own canvas).
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; worker-src 'none'; frame-src 'none'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)

#: ``app.extensions`` key: extra origins allowed in ``form-action`` (the OpenID provider's, set by
#: thrive/web/auth/oidc.py: signing out and linking post forms that redirect to the provider).
FORM_ACTION_ORIGINS = "thrive_form_action_origins"


def content_security_policy(app: Flask) -> str:
    """:data:`CSP` adjusted for this app: ``THRIVE_FRAME_ANCESTORS`` (embedding, issue 13) and provider origins."""
    policy = CSP
    origins = app.extensions.get(FORM_ACTION_ORIGINS)
    if origins:
        policy = policy.replace("form-action 'self'", "form-action 'self' " + " ".join(sorted(origins)))
    ancestors = app.config.get("THRIVE_FRAME_ANCESTORS")
    if ancestors:
        policy = policy.replace("frame-ancestors 'none'", "frame-ancestors " + ancestors)
    return policy


#: Cookie remembering the learner's explicit theme choice (set by static/js/thrive.js).
THEME_COOKIE = "thrive_theme"
THEMES = ("light", "dark")


def wants_json() -> bool:
    """True for API paths and clients that prefer JSON over HTML."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def json_error(status: int, code: str, message: str):
    """A §13 error body ``{"error": {"code", "message"}}`` with ``status``."""
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    return response


class HeaderInfo:
    """What the layout header shows for the signed-in learner (§7): own tier, level, unread count.

    ``celebrations()`` claims the pending celebrations (marks them shown) —
    call it only where they are rendered. The unread count and whether any
    celebration is pending come from one query.
    """

    def __init__(self, learner):
        from thrive.services.notifications.inbox import header_counts
        from thrive.services.points.registry import load_registry

        state = learner.state
        registry = load_registry()
        self.learner_id = learner.id
        self.tier = registry.tier(state.tier_key if state else registry.tiers[0].key)
        self.level = state.level if state else 1
        counts = g.pop(HEADER_COUNTS, None)
        if counts is None or g.get(COMMITTED):  # something was written since: read them again
            counts = header_counts(learner.id)
        self.unread, self.pending = counts

    def celebrations(self):
        from thrive.services.notifications.celebrations import claim_pending

        return claim_pending(self.learner_id) if self.pending else []


#: ``g`` keys: the header's counts read with the signed-in learner; a commit happened in this request.
HEADER_COUNTS = "thrive_header_counts"
COMMITTED = "thrive_committed"


def _is_full_page_request() -> bool:
    """A plain GET of a page (not HTMX, not the API, not a static file): the layout's header is rendered."""
    return request.method == "GET" and request.headers.get("HX-Request") != "true" \
        and not request.path.startswith(("/api/", "/static/"))


def load_request_learner(cookie_id: str):
    """Flask-Login's user loader: the learner the session stands for (see ``accounts.sessions``).

    For a full page the same statement reads the header's unread count and
    pending celebration (issue 12: one statement fewer per page); they are used
    unless something commits before the header is rendered (then read again).
    """
    from thrive.services.accounts.sessions import load_session_learner, load_session_learner_with_header

    if not _is_full_page_request():
        return load_session_learner(cookie_id)
    learner, counts = load_session_learner_with_header(cookie_id)
    if counts is not None:
        g.pop(COMMITTED, None)
        g.setdefault(HEADER_COUNTS, counts)
    return learner


def _note_commit(session) -> None:
    """``after_commit`` of every SQLAlchemy session: mark this request's prefetched header counts stale."""
    if has_request_context():
        g.setdefault(COMMITTED, True)


def _thrive_header() -> HeaderInfo | None:
    """Header info for the signed-in learner (memoised per request), None when anonymous."""
    if not current_user.is_authenticated:
        return None
    if "thrive_header" not in g:
        g.thrive_header = HeaderInfo(current_user)
    return g.thrive_header


def init_app(app: Flask) -> None:
    if not event.contains(Session, "after_commit", _note_commit):
        event.listen(Session, "after_commit", _note_commit)

    @app.before_request
    def award_daily_login():
        """First page view of the learner's local day awards ``daily_login`` (§4.2)."""
        if request.path.startswith(("/api/", "/static/")) or not current_user.is_authenticated:
            return
        if not current_user.is_learner:  # staff are not learners unless flagged (§11)
            return
        today = local_date(utcnow(), current_user.timezone).isoformat()
        if session.get("daily_login") == today:
            return
        from thrive.services.points.award import record_daily_login

        # Remember the day before trying, so a refused award (e.g. the rule is
        # disabled) is not retried on every request of the day.
        session["daily_login"] = today
        try:
            result = record_daily_login(current_user)
        except ThriveError as exc:
            app.logger.warning("daily_login award refused for learner %s: %s", current_user.id, exc.message)
            return
        if result.points_awarded and not result.duplicate:
            g.toast_points = result.points_awarded

    @app.after_request
    def no_store_when_signed_in(response):
        """Pages of a signed-in learner are personal: never kept by browser or proxy caches (§15).

        API answers (learner data for a bearer key) are never stored either; deciding that by the path
        spares the API the session's user look-up.
        """
        path = request.path
        if path.startswith("/api/") or (current_user.is_authenticated and not path.startswith("/static/")):
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", content_security_policy(app))
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        if not app.config.get("THRIVE_FRAME_ANCESTORS"):  # embedding allowed: frame-ancestors decides
            response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
        return response

    @app.after_request
    def htmx_points_toast(response):
        """A daily_login awarded during an HTMX request (a poll after midnight) toasts too (§7)."""
        points = g.get("toast_points")
        if points and request.headers.get("HX-Request") == "true":
            from .htmx import with_points_toast

            with_points_toast(response, points, "daily visit")
        return response

    @app.errorhandler(ThriveError)
    def thrive_error(exc: ThriveError):
        if wants_json():
            return json_error(exc.status, exc.code, exc.message)
        return render_template("error.html", status=exc.status, message=exc.message), exc.status

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        if wants_json():
            return json_error(400, "csrf_failed", exc.description)
        return render_template("error.html", status=400, message="Your form expired; please try again."), 400

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if wants_json():
            codes = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                     405: "method_not_allowed", 413: "payload_too_large", 429: "rate_limited"}
            response = json_error(exc.code or 500, codes.get(exc.code, "http_error"), exc.description or exc.name)
        else:
            response = app.make_response((render_template("error.html", status=exc.code, message=exc.description),
                                          exc.code))
        # keep the exception's protocol headers: Allow on 405, Retry-After on 429, WWW-Authenticate…
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.template_filter("isoformat")
    def isoformat_filter(value) -> str:
        """ISO 8601 for ``<time datetime>`` (instants as UTC)."""
        if value is None:
            return ""
        return as_utc(value).isoformat() if hasattr(value, "hour") else value.isoformat()

    @app.context_processor
    def inject_header():
        theme = request.cookies.get(THEME_COOKIE)
        return {"toast_points": g.get("toast_points"), "theme": theme if theme in THEMES else None,
                "thrive_header": _thrive_header}

    from ..extensions import login_manager

    @login_manager.unauthorized_handler
    def unauthorized():
        login_url = url_for("auth.login", next=request.full_path if request.query_string else request.path)
        if request.headers.get("HX-Request") == "true":
            response = app.response_class(status=200)
            response.headers["HX-Redirect"] = login_url
            return response
        if wants_json():
            return json_error(401, "unauthorized", "sign in required")
        return redirect(login_url)
