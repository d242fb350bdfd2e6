"""Register, sign in, sign out (local accounts; ``THRIVE_LOCAL_ACCOUNTS=0`` closes them, issue 13)."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext
from flask_login import current_user, login_required, login_user, logout_user

from thrive.services.accounts import learners
from thrive.services.accounts.sessions import end_all_sessions
from thrive.services.errors import ThriveError

from ...extensions import limiter
from ...timeutil import platform_timezone_name
from . import bp, oidc
from .forms import LoginForm, RegisterForm


def safe_next(target: str | None, default: str | None = None) -> str:
    """``target`` when it is a local path on this site, else ``default`` or the home page (no open redirects)."""
    if target:
        parts = urlsplit(target)
        if (not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//")
                and "\\" not in target):
            return target
    return default or url_for("home.index")


def landing_for(learner) -> str:
    """Where signing in lands without ``next``: staff who are not learners go to the admin area (§11)."""
    return url_for("admin.index") if learner.staff_role and not learner.is_learner else url_for("home.index")


def _login_limit() -> str:
    return current_app.config["THRIVE_LOGIN_RATE_LIMIT"]


def _account_login_limit() -> str:
    return current_app.config["THRIVE_ACCOUNT_LOGIN_RATE_LIMIT"]


def _register_limit() -> str:
    return current_app.config["THRIVE_REGISTER_RATE_LIMIT"]


def _login_account_key() -> str:
    """Rate-limit key of a sign-in attempt's account (whatever address it comes from)."""
    return "login-account:" + (request.form.get("username") or "").strip().lower()[:64]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_account_login_limit, methods=["POST"], key_func=_login_account_key,
               deduct_when=lambda response: response.status_code != 302)  # failed attempts only
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next"), landing_for(current_user)))
    if not current_app.config["THRIVE_LOCAL_ACCOUNTS"]:
        if request.method == "POST":
            return oidc.problem("local_off")
        return render_template("auth/login.html", form=None)
    form = LoginForm()
    if form.validate_on_submit():
        learner = learners.authenticate(form.username.data.strip(), form.password.data)
        if learner is None or not learner.is_active:
            form.password.errors.append("Unknown username or wrong password.")
        else:
            session.clear()
            login_user(learner, remember=form.remember.data)
            return redirect(safe_next(request.args.get("next"), landing_for(learner)))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(_register_limit, methods=["POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    if not current_app.config["THRIVE_LOCAL_ACCOUNTS"]:
        return oidc.problem("local_off")
    form = RegisterForm()
    if request.method == "GET":
        form.timezone.data = platform_timezone_name()
    if form.validate_on_submit():
        try:
            learner = learners.create_learner(
                form.username.data.strip(), form.display_name.data, password=form.password.data,
                email=(form.email.data or "").strip() or None, timezone=form.timezone.data, check_password=True,
            )
        except ThriveError as exc:
            fields = {"username_taken": form.username, "invalid_username": form.username,
                      "invalid_display_name": form.display_name, "weak_password": form.password}
            field = fields.get(exc.code)
            (field.errors if field else form.form_errors).append(exc.message)
        else:
            session.clear()
            login_user(learner)
            flash(gettext("Welcome to Thrive! Your journey starts now."), "success")
            return redirect(url_for("home.index"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/register.html", form=form), status


def end_browser_session(*, all_devices: bool = True):
    """Sign the current browser out and end every credential of the learner (issue 10 defect 1).

    The generation bump makes replayed session and remember cookies worthless
    (the session lives in a client-side cookie, so it cannot be revoked alone);
    the response also deletes the remember cookie. Returns the redirect to sign-in.
    """
    learner_id = current_user.id
    if all_devices:
        end_all_sessions(learner_id)
    logout_user()
    session.clear()
    response = redirect(url_for("auth.login"))
    config = current_app.config
    response.delete_cookie(config.get("REMEMBER_COOKIE_NAME", "remember_token"),
                           domain=config.get("REMEMBER_COOKIE_DOMAIN"), path=config.get("REMEMBER_COOKIE_PATH", "/"))
    return response


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Sign out of every credential; after an OpenID Connect sign-in, continue to the provider's end-session."""
    provider_logout = oidc.end_session_url(session.get(oidc.ID_TOKEN_KEY))
    response = end_browser_session()
    flash(gettext("You are signed out. See you soon!"), "info")
    if provider_logout:
        response.headers["Location"] = provider_logout
    return response
