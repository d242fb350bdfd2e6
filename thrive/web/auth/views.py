"""Register, sign in, sign out."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from thrive.services.accounts import learners
from thrive.services.accounts.sessions import end_all_sessions
from thrive.services.errors import ThriveError

from ...extensions import limiter
from ...timeutil import platform_timezone_name
from . import bp
from .forms import LoginForm, RegisterForm


def safe_next(target: str | None) -> str:
    """``target`` when it is a local path on this site, else the home page (no open redirects)."""
    if target:
        parts = urlsplit(target)
        if (not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//")
                and "\\" not in target):
            return target
    return url_for("home.index")


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
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        learner = learners.authenticate(form.username.data.strip(), form.password.data)
        if learner is None or not learner.is_active:
            form.password.errors.append("Unknown username or wrong password.")
        else:
            session.clear()
            login_user(learner, remember=form.remember.data)
            return redirect(safe_next(request.args.get("next")))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(_register_limit, methods=["POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
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
            flash("Welcome to Thrive! Your journey starts now.", "success")
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
    response = end_browser_session()
    flash("You are signed out. See you soon!", "info")
    return response
