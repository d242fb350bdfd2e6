"""Static files go out compressed (Flask-Compress) when the browser accepts it; pages never do (issue 11)."""
from __future__ import annotations

import gzip
from pathlib import Path

import brotli
import pytest
from backports import zstd

from thrive.web.compression import CompressedFiles

STATIC = Path(__file__).resolve().parents[2] / "static"


@pytest.mark.parametrize("path", ["/static/vendor/pico/pico.min.css", "/static/vendor/htmx/htmx.min.js",
                                  "/static/css/thrive.css", "/static/js/thrive.js", "/static/css/community.css",
                                  "/static/manifest.webmanifest"])
def test_text_assets_are_compressed_and_revalidate(client, path):
    raw = (STATIC / path.removeprefix("/static/")).read_bytes()
    decoders = {"gzip": gzip.decompress, "br": brotli.decompress, "zstd": zstd.decompress}
    for accept, algorithm in [("gzip, deflate", "gzip"), ("gzip, deflate, br", "br"), ("br, zstd", "zstd"),
                              ("br;q=1, zstd;q=0.5, gzip", "br")]:
        etags = set()
        for _ in range(2):  # the second answer comes from the per-worker cache
            response = client.get(path, headers={"Accept-Encoding": accept})
            assert response.status_code == 200
            assert response.headers["Content-Encoding"] == algorithm
            assert "Accept-Encoding" in response.headers["Vary"]
            assert "Accept-Ranges" not in response.headers
            assert decoders[algorithm](response.data) == raw
            assert len(response.data) < len(raw)
            assert int(response.headers["Content-Length"]) == len(response.data)
            etags.add(response.headers["ETag"])
        (etag,) = etags
        assert etag.endswith(f':{algorithm}"')  # one representation per algorithm
        again = client.get(path, headers={"Accept-Encoding": accept, "If-None-Match": etag})
        assert again.status_code == 304 and again.data == b""


def test_a_changed_file_is_compressed_again(app, client, tmp_path, monkeypatch):
    """The cache is keyed on the file's ETag (size, mtime): an edited file never gets a stale body."""
    folder = tmp_path / "static"
    folder.mkdir()
    asset = folder / "site.css"
    asset.write_text("body { color: red; }\n" * 100)
    monkeypatch.setattr(app, "static_folder", str(folder))
    first = client.get("/static/site.css", headers={"Accept-Encoding": "gzip"})
    assert gzip.decompress(first.data) == asset.read_bytes()
    asset.write_text("main { margin: 0; }\n" * 120)
    second = client.get("/static/site.css", headers={"Accept-Encoding": "gzip"})
    assert gzip.decompress(second.data) == asset.read_bytes()
    assert first.headers["ETag"] != second.headers["ETag"]


def test_cache_is_bounded():
    cache = CompressedFiles(maxsize=2)
    for i in range(3):
        cache.set(f"k{i}", b"x")
    assert cache.get("k0") is None and cache.get("k2") == b"x"


def test_plain_when_not_accepted_and_for_ranges_and_images(client):
    plain = client.get("/static/css/thrive.css")
    assert plain.status_code == 200 and "Content-Encoding" not in plain.headers
    assert plain.data == (STATIC / "css/thrive.css").read_bytes()
    for refusal in ("gzip;q=0", "gzip;q=0, br;q=0.0", "identity", "deflate"):
        refused = client.get("/static/css/thrive.css", headers={"Accept-Encoding": refusal})
        assert "Content-Encoding" not in refused.headers, refusal
    preferred = client.get("/static/css/thrive.css", headers={"Accept-Encoding": "gzip;q=0, br"})
    assert preferred.headers["Content-Encoding"] == "br"
    anything = client.get("/static/css/thrive.css", headers={"Accept-Encoding": "*"})
    assert anything.headers["Content-Encoding"] == "zstd"
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
    app.config["THRIVE_COMPRESS_STATIC"] = False
    response = client.get("/static/css/thrive.css", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in response.headers
