"""Static files go out gzip-compressed when the browser accepts it; pages never do (issue 11, Lighthouse)."""
from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from thrive.web.compression import accepts_gzip

STATIC = Path(__file__).resolve().parents[2] / "static"


@pytest.mark.parametrize("path", ["/static/vendor/pico/pico.min.css", "/static/vendor/htmx/htmx.min.js",
                                  "/static/css/thrive.css", "/static/js/thrive.js", "/static/css/community.css",
                                  "/static/manifest.webmanifest"])
def test_text_assets_are_gzipped_and_revalidate(client, path):
    raw = (STATIC / path.removeprefix("/static/")).read_bytes()
    for _ in range(2):  # the second answer comes from the per-worker cache
        response = client.get(path, headers={"Accept-Encoding": "gzip, deflate, br"})
        assert response.status_code == 200
        assert response.headers["Content-Encoding"] == "gzip"
        assert "Accept-Encoding" in response.headers["Vary"]
        assert "Accept-Ranges" not in response.headers
        assert gzip.decompress(response.data) == raw
        assert len(response.data) < len(raw)
    etag = response.headers["ETag"]
    assert etag.startswith('W/"')
    again = client.get(path, headers={"Accept-Encoding": "gzip", "If-None-Match": etag})
    assert again.status_code == 304


def test_plain_when_not_accepted_and_for_ranges_and_images(client):
    plain = client.get("/static/css/thrive.css")
    assert plain.status_code == 200 and "Content-Encoding" not in plain.headers
    assert plain.data == (STATIC / "css/thrive.css").read_bytes()
    refused = client.get("/static/css/thrive.css", headers={"Accept-Encoding": "gzip;q=0"})
    assert "Content-Encoding" not in refused.headers
    ranged = client.get("/static/css/thrive.css", headers={"Accept-Encoding": "gzip", "Range": "bytes=0-9"})
    assert ranged.status_code == 206 and "Content-Encoding" not in ranged.headers and len(ranged.data) == 10
    png = client.get("/static/img/icon-192.png", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in png.headers  # already compressed
    tiny = client.get("/static/img/favicon.svg", headers={"Accept-Encoding": "gzip"})  # 446 bytes: not worth it
    assert "Content-Encoding" not in tiny.headers and tiny.data == (STATIC / "img/favicon.svg").read_bytes()


def test_pages_are_not_compressed(client, auth, make_learner):
    """A page holds the session's CSRF token beside visitor-influenced text: never compressed (BREACH)."""
    make_learner("anna")
    auth.login("anna")
    page = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert page.status_code == 200 and "Content-Encoding" not in page.headers


def test_switch_off_behind_a_compressing_proxy(app, client):
    app.config["THRIVE_GZIP_STATIC"] = False
    response = client.get("/static/css/thrive.css", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in response.headers


@pytest.mark.parametrize("header, accepted", [("gzip", True), ("br, gzip;q=0.5", True), ("*", True),
                                              ("gzip;q=0", False), ("br", False), ("", False),
                                              ("identity, gzip;q=0.0", False)])
def test_accepts_gzip(header, accepted):
    assert accepts_gzip(header) is accepted
