"""A real OpenID provider for the tests (issue 13): ``oidc-provider-mock`` served in a thread.

The provider is the package's own Flask app (authorization code flow, signed
RS256 ID tokens, discovery, userinfo, end-session), wrapped in a small WSGI
recorder so tests can see what Thrive sent (PKCE parameters, nonce). Thrive
talks to it over HTTP exactly as to a production provider; nothing of
Thrive's client is mocked.
"""
from __future__ import annotations

import io
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from werkzeug.serving import make_server

from tests.conftest import _config

#: The provider package runs on Authlib's server side, which warns about its own deprecated APIs; the suite turns
#: warnings into errors process-wide (the provider's thread too), so tests that run it ignore exactly these.
PROVIDER_WARNINGS = [
    pytest.mark.filterwarnings("ignore:get_jwt_config.*is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:authlib.jose module is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:The httpx module is deprecated:DeprecationWarning"),
]

CLIENT_ID = "thrive-tests"
CLIENT_SECRET = "thrive-tests-secret"
PLATFORM = "Test Academy"


@dataclass
class Provider:
    """A running provider: ``issuer`` URL, the requests it received, helpers to act as its user."""

    issuer: str
    received: list[tuple[str, str, dict, dict]] = field(default_factory=list)  # (method, path, query, form)
    _stop: object = None

    def set_user(self, sub: str, claims: dict) -> None:
        """Define the claims the provider gives for ``sub``."""
        response = requests.put(f"{self.issuer}/users/{sub}", json=claims, timeout=10)
        assert response.status_code == 204, response.text

    def authorize(self, authorize_url: str, sub: str) -> str:
        """Consent as ``sub`` on the provider's authorization page; return the redirect back to Thrive."""
        response = requests.post(authorize_url, data={"sub": sub}, allow_redirects=False, timeout=10)
        assert response.status_code == 302, response.text
        return response.headers["Location"]

    def deny(self, authorize_url: str) -> str:
        """Press "Deny" on the authorization page; return the redirect back to Thrive."""
        response = requests.post(authorize_url, data={"action": "deny"}, allow_redirects=False, timeout=10)
        assert response.status_code == 302, response.text
        return response.headers["Location"]

    def requests_to(self, path: str) -> list[tuple[dict, dict]]:
        """(query, form) of every request the provider received at ``path``."""
        return [(q, f) for _m, p, q, f in self.received if p == path]

    def stop(self) -> None:
        if self._stop:
            self._stop()
            self._stop = None


def _recording(app, received: list):
    def wsgi(environ, start_response):
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        form = {}
        if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
            form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        received.append((environ["REQUEST_METHOD"], environ["PATH_INFO"], query, form))
        return app(environ, start_response)

    return wsgi


@contextmanager
def running_provider():
    """Serve a fresh provider (nonce required) on localhost:<free port>; stop it afterwards."""
    import oidc_provider_mock

    received: list = []
    app = oidc_provider_mock.app(require_nonce=True)
    server = make_server("localhost", 0, _recording(app, received), threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name="oidc-provider", daemon=True)
    thread.start()
    stopped = threading.Event()

    def stop():
        if not stopped.is_set():
            stopped.set()
            server.shutdown()
            server.server_close()
            thread.join(timeout=10)

    provider = Provider(issuer=f"http://localhost:{server.server_port}", received=received, _stop=stop)
    try:
        yield provider
    finally:
        stop()


def oidc_settings(issuer: str, **extra) -> dict:
    """App config for OpenID Connect sign-in against ``issuer``."""
    return {"THRIVE_OIDC_ISSUER": issuer, "THRIVE_OIDC_CLIENT_ID": CLIENT_ID,
            "THRIVE_OIDC_CLIENT_SECRET": CLIENT_SECRET, "THRIVE_OIDC_PLATFORM_NAME": PLATFORM,
            "THRIVE_OIDC_TIMEOUT": 5, **extra}


def oidc_app_config(database_url: str, issuer: str, **extra) -> dict:
    """The test app config (see tests/conftest.py) with OpenID Connect on."""
    return {**_config(database_url), **oidc_settings(issuer, **extra)}


def local_path(url: str) -> str:
    """Path and query of an absolute URL (to replay a redirect with the Flask test client)."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")
