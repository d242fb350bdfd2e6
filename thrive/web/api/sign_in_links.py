"""``POST /api/v1/users/<external_id>/sign-in-links``: one-time sign-in links for the platform (§13; issue 13).

The learning platform calls this server-side when a learner clicks "My
Thrive Circle" and redirects the learner's browser to the answer's ``url``.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, jsonify, request, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from thrive.services.accounts import sign_in_links
from thrive.services.errors import ValidationError

from . import bp
from .auth import current_client
from .schemas import SignInLinkRequestSchema, SignInLinkSchema
from .views import _check_external_id, json_body, load

_request_schema = SignInLinkRequestSchema()
_link_schema = SignInLinkSchema()
#: Endpoints (blueprint prefixes) a link may not land on.
_NOT_PAGES = ("api.", "auth.", "static")


def check_page_path(path: str | None) -> str | None:
    """``path`` when it is a safe local path naming a Thrive page (a GET route outside the API and sign-in).

    Raises ``ValidationError`` (400, ``invalid_next``) otherwise.
    """
    path = sign_in_links.clean_next_path(path)
    if path is None:
        return None
    adapter = current_app.url_map.bind_to_environ(request.environ)
    try:
        endpoint, _args = adapter.match(urlsplit(path).path, method="GET")
    except RequestRedirect:
        raise ValidationError(f"next {path!r} is not a Thrive page (did you mean it with a trailing slash?)",
                              code="invalid_next") from None
    except HTTPException:
        raise ValidationError(f"next {path!r} is not a Thrive page", code="invalid_next") from None
    if endpoint.startswith(_NOT_PAGES):
        raise ValidationError(f"next {path!r} is not a Thrive page", code="invalid_next")
    return path


def link_url(token: str) -> str:
    """The absolute URL of a link: under ``THRIVE_PUBLIC_URL`` when set, else this request's host."""
    base = current_app.config.get("THRIVE_PUBLIC_URL")
    if base:
        return base.rstrip("/") + url_for("auth.sign_in_link", token=token)
    return url_for("auth.sign_in_link", token=token, _external=True)


@bp.post("/users/<external_id>/sign-in-links")
def create_sign_in_link(external_id: str):
    """Issue a one-time sign-in link for a learner (§13).

    ---
    post:
      operationId: createSignInLink
      summary: A one-time sign-in link for a learner
      description: >
        Answers a URL that signs the learner in once and lands on next (a
        Thrive page path; default the home page). The link works for
        THRIVE_SIGN_IN_LINK_SECONDS (default 300 seconds) and only once; a
        used, expired or altered link shows a page explaining it and signs
        no one in. Call this server-side when the learner asks for their
        Thrive pages and redirect their browser to url; never e-mail or log
        it. The body is optional.
      tags: [users]
      parameters:
        - ExternalId
      requestBody:
        required: false
        content:
          application/json:
            schema: SignInLinkRequest
      responses:
        201:
          description: The link.
          content:
            application/json:
              schema: SignInLink
        400: BadRequest
        401: Unauthorized
        404: NotFound
        409: Conflict
        413: PayloadTooLarge
        429: RateLimited
    """
    _check_external_id(external_id)
    data = load(_request_schema, json_body()) if request.get_data() else {"next": None}
    next_path = check_page_path(data["next"])
    client = current_client()
    issued = sign_in_links.create_link(
        external_id, next_path=next_path, lifetime_seconds=current_app.config["THRIVE_SIGN_IN_LINK_SECONDS"],
        api_key_id=client.id if client else None,
    )
    response = jsonify(_link_schema.dump({"url": link_url(issued.token), "expires_at": issued.expires_at}))
    response.status_code = 201
    response.headers["Cache-Control"] = "no-store"
    return response
