"""Static files (CSS, JavaScript, SVG, the web manifest) sent compressed when the browser accepts it.

Lighthouse (issue 11) measured 155 KiB of avoidable transfer on every learner page —
Pico's stylesheet alone is 83 KB, 12 KB compressed — which on a phone's slow 4G link
delays the first paint by most of a second. A reverse proxy may compress too (README);
Thrive does not rely on one.

The work is Flask-Compress's (algorithm negotiation from ``Accept-Encoding`` with quality
factors — zstd, brotli, gzip —, ``Vary``, the per-algorithm ETag, conditional requests).
Thrive only decides *what* may be compressed: files under ``static/``, never pages. A page
carries the session's CSRF token beside text a visitor can influence, and compressing both
together would open it to a length side channel (BREACH); static files hold no secret. So
Flask-Compress is not registered for every response (``COMPRESS_REGISTER = False``): the
hook below hands it static answers only.

Each file is compressed once per worker per algorithm and kept in a bounded LRU cache keyed
by the algorithm, path and ETag (size and modification time), so a changed file is
compressed again.
"""
from __future__ import annotations

import threading

from cachetools import LRUCache
from flask import Flask, Response, g, request
from flask_compress import Compress

#: Media types worth compressing (images other than SVG, fonts and archives are compressed already).
COMPRESSIBLE = ["text/css", "text/javascript", "application/javascript", "image/svg+xml",
                "application/manifest+json", "application/json", "text/plain"]
#: Compressed files kept per worker (the static folder holds a few dozen, times the algorithms used).
MAX_CACHED = 256


class CompressedFiles:
    """Flask-Compress's cache backend (``get``/``set``): a thread-safe bounded LRU of compressed bodies (bytes)."""

    def __init__(self, maxsize: int = MAX_CACHED):
        self._lru: LRUCache[str, bytes] = LRUCache(maxsize)
        self._lock = threading.Lock()  # gthread workers share the cache between threads

    def get(self, key: str) -> bytes | None:
        with self._lock:
            return self._lru.get(key)

    def set(self, key: str, value: bytes) -> None:
        with self._lock:
            self._lru[key] = value


def _cache_key(req) -> str:
    """The file's identity for the cache: path and ETag (the ETag changes with the file's size or mtime)."""
    return f"{req.path};{g.static_etag}"


def _accepts_any(algorithms: list[str]) -> bool:
    """Whether ``Accept-Encoding`` accepts one of ``algorithms`` with a quality above 0 (``*`` counts).

    Flask-Compress 1.25 would still pick an algorithm the browser refused with ``q=0`` (RFC 9110 §12.5.3:
    "not acceptable"), so such a request is answered uncompressed before it is asked.
    """
    return any(request.accept_encodings.quality(algorithm) > 0 for algorithm in algorithms)


def init_app(app: Flask) -> None:
    """Compress static answers (off when ``THRIVE_COMPRESS_STATIC`` is false, e.g. behind a compressing proxy)."""
    app.config.setdefault("COMPRESS_REGISTER", False)  # never every response: pages stay uncompressed (BREACH)
    app.config.setdefault("COMPRESS_MIMETYPES", COMPRESSIBLE)
    app.config.setdefault("COMPRESS_ALGORITHM", ["zstd", "br", "gzip"])
    app.config.setdefault("COMPRESS_LEVEL", 9)       # gzip: compressed once per worker, so the best ratio
    app.config.setdefault("COMPRESS_BR_LEVEL", 11)
    app.config.setdefault("COMPRESS_ZSTD_LEVEL", 19)
    app.config.setdefault("COMPRESS_MIN_SIZE", 512)  # below it, compression saves less than a packet
    app.config.setdefault("COMPRESS_CACHE_BACKEND", CompressedFiles)
    app.config.setdefault("COMPRESS_CACHE_KEY", _cache_key)
    compress = Compress(app)

    @app.after_request
    def compress_static(response: Response) -> Response:
        if not app.config.get("THRIVE_COMPRESS_STATIC", True) or request.endpoint != "static":
            return response
        if response.status_code != 200:  # 304s carry no body; a 206 range is of the uncompressed file
            response.vary.add("Accept-Encoding")
            return response
        etag, _weak = response.get_etag()
        if not etag or not _accepts_any(app.config["COMPRESS_ALGORITHM"]):
            return response  # no identity to cache it by, or every algorithm refused: send it as it is
        # send_file answers with a streamed file wrapper; as a sequence, Flask-Compress compresses it once
        # (cached) instead of streaming a fresh compression per request.
        response.direct_passthrough = False
        response.make_sequence()
        g.static_etag = etag
        response = compress.after_request(response)
        if "Content-Encoding" in response.headers:
            response.headers.pop("Accept-Ranges", None)  # ranges would be of the uncompressed file
        return response
