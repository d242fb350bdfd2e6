"""Static files (CSS, JavaScript, SVG, the web manifest) sent gzip-compressed when the browser accepts it.

Lighthouse (issue 11) measured 155 KiB of avoidable transfer on every learner page —
Pico's stylesheet alone is 83 KB, 12 KB compressed — which on a phone's slow 4G link
delays the first paint by most of a second. A reverse proxy may compress too (README);
Thrive does not rely on one.

Only files under ``static/`` are compressed, never pages: a page carries the session's
CSRF token beside text a visitor can influence, and compressing both together would open
it to a length side channel (BREACH). Static files hold no secret.

Each file is compressed once per worker and kept in memory, keyed by its path and ETag
(size and modification time), so a changed file is compressed again. The ETag becomes
weak (``W/"…"``): the compressed bytes are a different representation of the same file,
and conditional requests (``If-None-Match``, weak comparison) still answer 304.
"""
from __future__ import annotations

import gzip

from flask import Flask, Response, request

#: Media types worth compressing (images other than SVG, fonts and archives are compressed already).
COMPRESSIBLE = ("text/css", "text/javascript", "application/javascript", "image/svg+xml",
                "application/manifest+json", "application/json", "text/plain")
#: Below this many bytes, compression saves less than a packet.
MIN_BYTES = 512
#: Compressed files kept per worker (the static folder holds a few dozen).
MAX_CACHED = 128


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an ``Accept-Encoding`` header value accepts gzip (``gzip`` or ``*``, quality above 0)."""
    for part in accept_encoding.split(","):
        name, _, params = part.strip().partition(";")
        if name.strip().lower() in ("gzip", "*"):
            quality = params.strip().removeprefix("q=") if params.strip().startswith("q=") else "1"
            try:
                return float(quality) > 0
            except ValueError:
                return False
    return False


def init_app(app: Flask) -> None:
    """Register the after-request hook (off when ``THRIVE_GZIP_STATIC`` is false, e.g. behind a compressing proxy)."""
    cache: dict[tuple[str, str], bytes] = {}

    @app.after_request
    def gzip_static(response: Response) -> Response:
        if not app.config.get("THRIVE_GZIP_STATIC", True) or request.endpoint != "static":
            return response
        response.vary.add("Accept-Encoding")
        if (response.status_code != 200 or response.mimetype not in COMPRESSIBLE
                or "Content-Encoding" in response.headers
                or not accepts_gzip(request.headers.get("Accept-Encoding", ""))):
            return response
        etag, _weak = response.get_etag()
        key = (request.path, etag or "")
        body = cache.get(key) if etag else None
        if body is None:
            response.direct_passthrough = False  # send_file's file wrapper: read it here
            raw = response.get_data()
            if len(raw) < MIN_BYTES:
                return response
            body = gzip.compress(raw, compresslevel=9, mtime=0)
            if etag:
                if len(cache) >= MAX_CACHED:
                    cache.clear()
                cache[key] = body
        else:  # the file is not read: its compressed copy is sent
            close = getattr(response.response, "close", None)
            if close:
                close()
            response.direct_passthrough = False
        response.set_data(body)
        response.headers["Content-Encoding"] = "gzip"
        response.headers.pop("Accept-Ranges", None)
        if etag:
            response.set_etag(etag, weak=True)
        return response
