"""``GET /sign-in/<token>``: a one-time sign-in link from the API signs the learner in (§13; issue 13).

Opening a link first ends any session in this browser (the link says who is
to be signed in here), then redeems the link once
(``services.accounts.sign_in_links.redeem``). A used (410), expired (410),
tampered or unknown (400) link, or one for a deactivated learner (403), ends
on a clear page with nobody signed in.
"""
from __future__ import annotations

from flask import current_app, redirect, render_template, session, url_for
from flask_login import login_user, logout_user

from thrive.services.accounts import sign_in_links

from ...extensions import db
from ...models import Learner
from . import bp, oidc

#: Link error code → (title, explanation); ``{platform}`` is THRIVE_OIDC_PLATFORM_NAME. The status is the error's.
LINK_PROBLEMS = {
    "link_invalid": ("This sign-in link is not valid",
                     "The link is incomplete or was changed, so nobody was signed in. Open Thrive from {platform} "
                     "again to get a new link."),
    "link_used": ("This sign-in link was already used",
                  "Each sign-in link works once, so nobody was signed in. Open Thrive from {platform} again to get a "
                  "new link."),
    "link_expired": ("This sign-in link has expired",
                     "Sign-in links work for a few minutes, so nobody was signed in. Open Thrive from {platform} "
                     "again to get a new link."),
    "learner_deactivated": ("This account is deactivated",
                            "The Thrive account this link is for is deactivated, so nobody was signed in."),
}


@bp.get("/sign-in/<token>")
def sign_in_link(token: str):
    """Redeem the link and land on its ``next`` path (default: the home page)."""
    from .views import safe_next

    logout_user()
    session.clear()
    try:
        redeemed = sign_in_links.redeem(token)
    except sign_in_links.SignInLinkError as exc:
        title, text = LINK_PROBLEMS[exc.code]
        name = oidc.platform_name()
        response = render_template("auth/sign_in_problem.html", code=exc.code, title=title,
                                   message=text.format(platform=name), oidc=oidc.enabled())
        return response, exc.status, {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}
    learner = db.session.get(Learner, redeemed.learner_id)
    login_user(learner)
    current_app.logger.info("learner %s signed in through a sign-in link", learner.id)
    response = redirect(safe_next(redeemed.next_path) if redeemed.next_path else url_for("home.index"))
    response.headers["Referrer-Policy"] = "no-referrer"  # the token never leaks through Referer
    response.headers["Cache-Control"] = "no-store"
    return response
