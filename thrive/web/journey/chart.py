"""My Journey's chart payload: category labels, colours and date labels (presentation, §7).

Colours are chosen for at least 3:1 contrast against both the light and the
dark page background (graphical objects, WCAG 1.4.11).
"""
from __future__ import annotations

from datetime import date

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
    """The service's chart data (keys and points) with labels and colours for Chart.js."""
    series = chart_data.get("series", {})
    bucket = series.get("bucket", "day")
    return {
        "categories": [dict(c, label=category_label(c["key"]), colour=category_colour(c["key"]))
                       for c in chart_data.get("categories", [])],
        "series": {"bucket": bucket, "labels": [bucket_label(x, bucket) for x in series.get("labels", [])],
                   "datasets": [dict(d, label=category_label(d["key"]), colour=category_colour(d["key"]))
                                for d in series.get("datasets", [])]},
    }
