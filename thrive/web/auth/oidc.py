"""Sign in with the learning platform through OpenID Connect, and link it from settings (§0, §7; issue 13).

Authlib's Flask client (``authlib.integrations.flask_client.OAuth``) does the
protocol: discovery from ``THRIVE_OIDC_ISSUER``, the authorization code flow
with PKCE (S256), ``state`` kept in the session and checked on return, the
ID token's signature, issuer, audience, expiry and ``nonce`` verified. This
module adds the routes and decides what a verified identity means:

- ``GET /login/oidc`` starts a sign-in; the callback finds the learner by the
  external-id claim (as the API created them) or creates one, refreshes the
  profile fields the platform owns, and signs them in
  (``services.accounts.identities``);
- ``POST /settings/sign-in/link`` starts the same flow while signed in; the
  callback links the identity to the signed-in learner (never by e-mail);
  ``POST /settings/sign-in/unlink`` removes it (the account and points stay);
- sign-out (``views.logout``) continues to the provider's ``end_session_endpoint``.

Every failure (wrong or replayed state, a code the provider refuses, an ID
token that does not verify, denied consent, an unreachable provider) ends on
``auth/sign_in_problem.html`` with nobody signed in.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client import MismatchingStateError, OAuthError
from authlib.integrations.flask_client import OAuth
from flask import Flask, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user
from joserfc.errors import JoseError
from requests import RequestException

from thrive.services.accounts import identities
from thrive.services.errors import Conflict, NotFound, ValidationError

from ...extensions import db
from ...models import Learner
from ..hooks import FORM_ACTION_ORIGINS
from . import bp, embedding
from .forms import LinkForm, UnlinkForm

CLIENT_NAME = "platform"
OAUTH_EXTENSION = "authlib.integrations.flask_client"
#: Session key of the ID token of an OpenID Connect sign-in (the ``id_token_hint`` at sign-out).
ID_TOKEN_KEY = "oidc_id_token"

#: Failure code → (HTTP status, title, explanation); ``{platform}`` is THRIVE_OIDC_PLATFORM_NAME.
PROBLEMS: dict[str, tuple[int, str, str]] = {
    "state": (400, "This sign-in attempt is no longer valid",
              "A sign-in attempt works once, in the browser that started it. Nobody was signed in; please start "
              "again."),
    "code": (400, "The sign-in could not be completed",
             "{platform} did not accept this sign-in attempt (it may have been used already). Nobody was signed "
             "in; please start again."),
    "token": (400, "The sign-in could not be verified",
              "The answer from {platform} did not match this sign-in attempt, so nobody was signed in. Please start "
              "again."),
    "denied": (403, "Sign-in cancelled",
               "You did not allow Thrive to use your {platform} account, so nobody was signed in. You can try again "
               "whenever you like."),
    "unreachable": (502, "{platform} could not be reached",
                    "Thrive could not contact {platform} just now, so nobody was signed in. Please try again in a "
                    "moment."),
    "claims": (400, "Your {platform} account could not be used",
               "{platform} did not tell Thrive which of its accounts you are, so nobody was signed in. Please "
               "contact support."),
    "deactivated": (403, "This account is deactivated",
                    "The Thrive account of this {platform} account is deactivated, so nobody was signed in."),
    "link_session": (400, "The link could not be completed",
                     "You were no longer signed in as the learner who started linking. Sign in and try again from "
                     "your settings."),
    "local_off": (403, "Sign in with {platform}",
                  "This site has no local accounts or passwords: please sign in with {platform}."),
}
#: Link/unlink refusals (service error code → flash message).
LINK_MESSAGES = {
    "identity_in_use": "That {platform} account is already linked to another Thrive account. Accounts are never "
                       "merged; sign in with {platform} to use that account instead.",
    "already_linked": "Your Thrive account is linked to a different {platform} account. Unlink it first.",
    "platform_only": "{platform} is the only way to sign in on this site, so it cannot be unlinked.",
    "password_required": "Your account has no password yet: choose one below, so that you can still sign in after "
                         "unlinking.",
    "weak_password": "Choose a password of at least 8 characters.",
    "not_linked": "Your account is not linked to {platform}.",
}
PROVIDER_ERRORS = (RequestException, ValueError)


def enabled(app: Flask | None = None) -> bool:
    """True when OpenID Connect sign-in is configured (``THRIVE_OIDC_ISSUER``)."""
    return bool((app or current_app).config.get("THRIVE_OIDC_ISSUER"))


def platform_name() -> str:
    return current_app.config["THRIVE_OIDC_PLATFORM_NAME"]


def _origin(url: str) -> str | None:
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else None


def init_app(app: Flask) -> None:
    """Embedding settings, then the Authlib client when ``THRIVE_OIDC_ISSUER`` is set (raises ``ValueError``
    for an issuer without ``THRIVE_OIDC_CLIENT_ID``)."""
    embedding.init_app(app)
    if not enabled(app):
        return
    issuer = app.config["THRIVE_OIDC_ISSUER"].rstrip("/")
    if not app.config.get("THRIVE_OIDC_CLIENT_ID"):
        raise ValueError("THRIVE_OIDC_CLIENT_ID must be set when THRIVE_OIDC_ISSUER is")
    oauth = OAuth(app)
    oauth.register(
        CLIENT_NAME,
        client_id=app.config["THRIVE_OIDC_CLIENT_ID"],
        client_secret=app.config.get("THRIVE_OIDC_CLIENT_SECRET"),
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs={"scope": app.config["THRIVE_OIDC_SCOPES"], "code_challenge_method": "S256",
                       "default_timeout": app.config["THRIVE_OIDC_TIMEOUT"]},
    )
    app.extensions[FORM_ACTION_ORIGINS] = frozenset({_origin(issuer)})


@bp.record_once
def _on_register(state) -> None:
    init_app(state.app)


def client():
    """The app's Authlib client for the platform (only when :func:`enabled`)."""
    return current_app.extensions[OAUTH_EXTENSION].create_client(CLIENT_NAME)


def provider_metadata() -> dict:
    """The provider's discovery document (fetched once per process, then cached by Authlib).

    Raises ``RequestException`` when the provider cannot be reached and
    ``ValueError`` when the document's issuer is not ``THRIVE_OIDC_ISSUER``
    (OpenID Connect Discovery §4.3). The origins of its authorization and
    end-session endpoints join the CSP ``form-action`` list (forms that post
    here redirect there).
    """
    metadata = client().load_server_metadata()
    expected = current_app.config["THRIVE_OIDC_ISSUER"].rstrip("/")
    if str(metadata.get("issuer", "")).rstrip("/") != expected:
        metadata.pop("_loaded_at", None)  # fetch again next time
        raise ValueError(f"the provider's issuer {metadata.get('issuer')!r} is not {expected!r}")
    origins = current_app.extensions.get(FORM_ACTION_ORIGINS, frozenset())
    found = {_origin(metadata.get(key)) for key in ("authorization_endpoint", "end_session_endpoint")} - {None}
    if not found <= origins:  # replaced whole, never mutated: responses may be reading it in other threads
        current_app.extensions[FORM_ACTION_ORIGINS] = frozenset(origins | found)
    return metadata


def claim_mapping() -> identities.ClaimMapping:
    """The claim names configured in ``THRIVE_OIDC_*_CLAIM``."""
    config = current_app.config
    return identities.ClaimMapping(
        external_id=config["THRIVE_OIDC_EXTERNAL_ID_CLAIM"], username=config["THRIVE_OIDC_USERNAME_CLAIM"],
        display_name=config["THRIVE_OIDC_DISPLAY_NAME_CLAIM"], email=config["THRIVE_OIDC_EMAIL_CLAIM"],
        timezone=config["THRIVE_OIDC_TIMEZONE_CLAIM"],
    )


def problem(code: str):
    """The clear page for a failed sign-in (nobody is signed in), with the status of :data:`PROBLEMS`."""
    status, title, text = PROBLEMS[code]
    name = platform_name()
    return render_template("auth/sign_in_problem.html", code=code, title=title.format(platform=name),
                           message=text.format(platform=name), oidc=enabled()), status


#: Sign-in attempts kept pending per browser (several tabs); older ones are dropped so the cookie stays small.
MAX_PENDING = 3


def _drop_old_attempts() -> None:
    prefix = f"_state_{CLIENT_NAME}_"
    pending = sorted((value.get("exp", 0), key) for key, value in session.items()
                     if key.startswith(prefix) and isinstance(value, dict))
    for _exp, key in pending[:max(0, len(pending) - (MAX_PENDING - 1))]:
        session.pop(key, None)


def _start(intent: str, next_path: str, learner_id: int | None = None):
    """Redirect to the provider's authorization endpoint; what to do on return is kept with the state."""
    oauth_client = client()
    _drop_old_attempts()
    redirect_uri = url_for("auth.oidc_callback", _external=True)
    try:
        provider_metadata()
        authorization = oauth_client.create_authorization_url(redirect_uri)
    except PROVIDER_ERRORS:
        current_app.logger.warning("OpenID provider unreachable at sign-in start", exc_info=True)
        return problem("unreachable")
    oauth_client.save_authorize_data(redirect_uri=redirect_uri, thrive_intent=intent, thrive_next=next_path,
                                     thrive_learner=learner_id, **authorization)
    return redirect(authorization["url"])


@bp.get("/login/oidc")
def oidc_login():
    """Start "Sign in with <platform>" (``next``: a local path to land on afterwards)."""
    from .views import safe_next

    if not enabled():
        abort(404)
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    return _start("sign_in", safe_next(request.args.get("next")))


@bp.post("/settings/sign-in/link")
@login_required
def oidc_link():
    """Start linking the signed-in learner to their platform account (CSRF-checked form)."""
    if not enabled():
        abort(404)
    LinkForm()  # CSRFProtect has checked the token
    return _start("link", url_for("settings.index"), current_user.id)


def _verified_claims(oauth_client, token: dict) -> dict:
    """The ID token's verified claims, completed by the userinfo endpoint when the provider has one."""
    claims = dict(token.get("userinfo") or {})
    if not claims:
        raise ValueError("the provider returned no ID token")
    if provider_metadata().get("userinfo_endpoint"):
        info = dict(oauth_client.userinfo(token=token))
        if info.get("sub") != claims.get("sub"):  # OpenID Connect Core §5.3.2
            raise ValueError("userinfo is about another subject than the ID token")
        claims.update(info)
    return claims


@bp.get("/login/oidc/callback")
def oidc_callback():
    """The provider sends the browser back here with ``code`` and ``state`` (or ``error``)."""
    from .views import safe_next

    if not enabled():
        abort(404)
    oauth_client = client()
    state = request.args.get("state")
    intent = (oauth_client.framework.get_state_data(session, state) or {}) if state else {}
    try:
        token = oauth_client.authorize_access_token()
        claims = _verified_claims(oauth_client, token)
    except MismatchingStateError:
        return problem("state")
    except OAuthError as exc:
        current_app.logger.info("OpenID sign-in refused: %s %s", exc.error, exc.description)
        return problem("denied" if exc.error == "access_denied" else "code")
    except (JoseError, AuthlibBaseError) as exc:
        current_app.logger.warning("OpenID ID token rejected: %r", exc)
        return problem("token")
    except RequestException:
        current_app.logger.warning("OpenID provider unreachable at callback", exc_info=True)
        return problem("unreachable")
    except ValueError as exc:
        current_app.logger.warning("OpenID answer unusable: %s", exc)
        return problem("token")

    if intent.get("thrive_intent") == "link":
        return _finish_link(intent, claims)
    try:
        outcome = identities.sign_in_from_claims(claims, claim_mapping())
    except identities.AccountDeactivated:
        return problem("deactivated")
    except ValidationError:
        return problem("claims")
    if outcome.ignored:
        current_app.logger.info("claims ignored for learner %s: %s", outcome.learner_id, ", ".join(outcome.ignored))
    learner = db.session.get(Learner, outcome.learner_id)
    session.clear()
    login_user(learner)
    if token.get("id_token"):
        session[ID_TOKEN_KEY] = token["id_token"]
    if outcome.created:
        flash("Welcome to Thrive! Your journey starts now.", "success")
    return redirect(safe_next(intent.get("thrive_next")))


def _finish_link(intent: dict, claims: dict):
    if not current_user.is_authenticated or current_user.id != intent.get("thrive_learner"):
        return problem("link_session")
    try:
        identities.link_identity(current_user.id, claims, claim_mapping())
    except Conflict as exc:
        flash(LINK_MESSAGES.get(exc.code, exc.message).format(platform=platform_name()), "error")
    except (ValidationError, NotFound):
        return problem("claims")
    else:
        flash(f"Your {platform_name()} account is linked: you can now sign in with it.", "success")
    return redirect(url_for("settings.index"))


@bp.post("/settings/sign-in/unlink")
@login_required
def oidc_unlink():
    """Unlink the platform account (a password must exist or be set in the same form)."""
    form = UnlinkForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(message, "error")
        return redirect(url_for("settings.index"))
    try:
        identities.unlink_identity(current_user.id, local_accounts=current_app.config["THRIVE_LOCAL_ACCOUNTS"],
                                   new_password=form.password.data or None)
    except (Conflict, ValidationError) as exc:
        flash(LINK_MESSAGES.get(exc.code, exc.message).format(platform=platform_name()), "error")
    else:
        flash(f"Your {platform_name()} account is unlinked. Your Thrive account and points are unchanged.",
              "success")
    return redirect(url_for("settings.index"))


def end_session_url(id_token: str | None) -> str | None:
    """The provider's end-session URL (RP-initiated logout) for a learner who signed in with it, else None.

    None when OpenID Connect is off, the learner did not sign in through it
    (no ``id_token``), the provider has no ``end_session_endpoint`` or cannot
    be reached (the Thrive session is ended anyway).
    """
    if not enabled() or not id_token:
        return None
    try:
        if not provider_metadata().get("end_session_endpoint"):
            return None
        return client().create_logout_url(post_logout_redirect_uri=url_for("auth.login", _external=True),
                                          id_token_hint=id_token,
                                          client_id=current_app.config["THRIVE_OIDC_CLIENT_ID"])["url"]
    except PROVIDER_ERRORS:
        current_app.logger.warning("OpenID provider unreachable at sign-out", exc_info=True)
        return None


@bp.app_context_processor
def sign_in_options() -> dict:
    """``sign_in`` in every template: which doors are open (login page, settings)."""
    return {"sign_in": {"oidc": enabled(), "platform": platform_name(),
                        "local": current_app.config["THRIVE_LOCAL_ACCOUNTS"]}}
