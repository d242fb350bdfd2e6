"""My Journey's charts, drawn on the server as inline SVG (presentation, §7; issue 11 item 9).

:func:`chart_payload` adds labels and colours to the service's chart data;
:func:`donut` and :func:`stacked` turn it into the geometry that
``templates/journey/_charts.html`` draws. The charts were Chart.js canvases: 208 KB of
script that cost a phone ~0.6 s of main-thread time and pushed Lighthouse's LCP past
3 s, and left an empty box without JavaScript. Inline SVG needs no script, has its
size from the first paint (no layout shift), survives HTMX swaps as plain markup and
shows without JavaScript. Each chart is one ``role="img"`` with a label that points
to the table below it, which keeps every figure; a segment's ``<title>`` is its
hover tooltip.

Colours are chosen for at least 3:1 contrast against both the light and the
dark page background (graphical objects, WCAG 1.4.11).
"""
from __future__ import annotations

from datetime import date
from math import ceil, log10

from ..actions import category_label
from ..i18n import format_day, gettext

CATEGORY_COLOURS = {
    "creation": "#d9480f",
    "learning": "#1971c2",
    "community": "#2b8a3e",
    "participation": "#9c36b5",
    "consistency": "#e67700",
    "challenge": "#c92a2a",
}
FALLBACK_COLOUR = "#868e96"


def category_colour(key: str | None) -> str:
    return CATEGORY_COLOURS.get(key or "", FALLBACK_COLOUR)


def bucket_label(iso: str, bucket: str) -> str:
    day = date.fromisoformat(iso)
    if bucket == "day":
        return format_day(day, "d MMM")
    return gettext("week of %(date)s", date=format_day(day, "d MMM yyyy"))


def chart_payload(chart_data: dict) -> dict:
    """The service's chart data (keys and points) with labels and colours, for :func:`donut` and :func:`stacked`."""
    series = chart_data.get("series", {})
    bucket = series.get("bucket", "day")
    return {
        "categories": [dict(c, label=category_label(c["key"]), colour=category_colour(c["key"]))
                       for c in chart_data.get("categories", [])],
        "series": {"bucket": bucket, "labels": [bucket_label(x, bucket) for x in series.get("labels", [])],
                   "datasets": [dict(d, label=category_label(d["key"]), colour=category_colour(d["key"]))
                                for d in series.get("datasets", [])]},
    }


#: Width of one bucket of the stacked chart in viewBox units (the bar takes BAR of it, the rest is the gap).
SLOT, BAR = 10, 7
#: Height of the stacked chart's viewBox: the largest bucket total reaches it.
HEIGHT = 100


def nice_ceiling(value: int) -> int:
    """The smallest 1, 2, 2.5 or 5 × 10ⁿ at or above ``value`` (at least 1): the stacked chart's top."""
    if value <= 1:
        return 1
    base = 10 ** int(log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if base * step >= value:
            return int(ceil(base * step))
    return base * 10  # pragma: no cover — the loop ends at 10 × base


def donut(payload: dict) -> dict:
    """Donut segments: ``{"total", "segments": [{key, label, colour, points, percent, offset}]}``.

    Drawn as circles of circumference 100 (``pathLength="100"``): a segment is a dash of
    ``percent`` starting at ``offset`` (both in percent of the whole, clockwise from the top).
    Categories with no points are left out.
    """
    categories = [c for c in payload["categories"] if c["points"] > 0]
    total = sum(c["points"] for c in categories)
    segments, start = [], 0.0
    for c in categories:
        share = 100 * c["points"] / total if total else 0
        segments.append({**c, "percent": round(share, 3), "offset": round(start, 3)})
        start += share
    return {"total": total, "segments": segments}


def stacked(payload: dict) -> dict:
    """Stacked bars per bucket: ``{"width", "top", "ticks", "labels", "buckets": [{label, bars: [...]}]}``.

    Bars are in viewBox units (``width`` × :data:`HEIGHT`, drawn with ``preserveAspectRatio="none"``
    so they fill the box at any width); ``top`` is the axis maximum (a round number at or above
    the largest bucket total); ``labels`` are the first, middle and last bucket labels for the axis.
    """
    series = payload["series"]
    labels, datasets = series["labels"], series["datasets"]
    totals = [sum(d["points"][i] for d in datasets) for i in range(len(labels))]
    top = nice_ceiling(max(totals, default=0))
    buckets = []
    for i, label in enumerate(labels):
        bars, y = [], float(HEIGHT)
        for d in datasets:
            points = d["points"][i]
            if points <= 0:
                continue
            height = HEIGHT * points / top
            y -= height
            bars.append({"key": d["key"], "label": d["label"], "colour": d["colour"], "points": points,
                         "x": i * SLOT + (SLOT - BAR) / 2, "y": round(y, 3), "height": round(height, 3)})
        buckets.append({"label": label, "total": totals[i], "bars": bars})
    axis = [labels[0], labels[len(labels) // 2], labels[-1]] if len(labels) > 2 else list(labels)
    return {"width": max(len(labels), 1) * SLOT, "height": HEIGHT, "bar": BAR, "top": top,
            "labels": axis, "buckets": buckets}
