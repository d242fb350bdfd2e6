"""The learner's data export as a ZIP (issue 10, data subject requests; §1, §8.4, §15).

The rows come from the service (:func:`thrive.services.accounts.data_requests.export_data`
and ``notification_rows``); the words are the web layer's: section titles,
the ``index.html`` to browse the files, and the notifications, worded by the
same code as the notifications page (:func:`thrive.web.notifications.text.notification_views`,
names through the visibility rules: another learner is "A learner" unless
they share their profile). The settings page, the admin area, the CLI
(``flask thrive export-learner``) and the API (``GET /api/v1/users/<id>/export``)
all call :func:`build_export`.

The ZIP holds ``<section>.json`` and ``<section>.csv`` for every section, and
``index.html``. CSV cells that a spreadsheet would read as a formula (starting
with ``= + - @``) are prefixed with a quote.
"""
from __future__ import annotations

import csv
import io
import json
import zipfile
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime

from flask import Response, current_app, has_request_context, render_template, send_file
from flask_babel import get_locale, lazy_gettext

from thrive.services.accounts import data_requests
from thrive.services.community.visibility import ANONYMOUS_NAME
from thrive.timeutil import as_utc, utcnow

from .notifications.text import notification_views

#: Section → title shown in ``index.html`` (sections without a title show their file name).
SECTION_TITLES = {
    "profile": lazy_gettext("Profile"),
    "settings": lazy_gettext("Settings"),
    "ledger": lazy_gettext("Points history (ledger)"),
    "progression_events": lazy_gettext("Tier and level changes"),
    "streaks": lazy_gettext("Progress and streaks"),
    "goals": lazy_gettext("Weekly goals"),
    "circle_memberships": lazy_gettext("Thrive Circle memberships"),
    "side_quests": lazy_gettext("Side quests"),
    "achievements": lazy_gettext("Achievements earned"),
    "achievement_progress": lazy_gettext("Progress towards achievements"),
    "follows": lazy_gettext("Follows"),
    "cheers": lazy_gettext("Cheers given and received"),
    "notifications": lazy_gettext("Notifications"),
}


@dataclass(frozen=True)
class Export:
    """A finished export: ``filename`` (``thrive-data-<username>.zip``), ``content`` (ZIP bytes), rows per section."""

    filename: str
    content: bytes
    counts: dict[str, int]

    def download(self) -> Response:
        """The ZIP as an attachment, never cached (settings, the admin area and the API answer with it)."""
        response = send_file(io.BytesIO(self.content), mimetype="application/zip", as_attachment=True,
                             download_name=self.filename)
        response.headers["Cache-Control"] = "no-store"
        return response


def _value(v):
    return v.isoformat() if isinstance(v, datetime) else v


def notification_export_rows(learner_id: int) -> list[dict]:
    """The learner's notifications, oldest first, worded as the notifications page words them (one row each)."""
    views = notification_views(data_requests.notification_rows(learner_id), collapse=False)
    return [{"id": v.id, "type": v.type, "title": str(v.title), "body": None if v.body is None else str(v.body),
             "link": v.link, "created_at": _value(v.created_at), "read_at": _value(v.read_at)} for v in views]


def export_rows(learner_id: int) -> dict[str, list[dict]]:
    """Every section of the export for the learner (the service's sections, then ``notifications``).

    Raises ``UnknownLearner`` (also for an erased learner). Needs a request
    context (see :func:`build_export`).
    """
    rows = data_requests.export_data(learner_id)
    rows["notifications"] = notification_export_rows(learner_id)
    return rows


def _csv(rows: list[dict]) -> str:
    buffer = io.StringIO()
    columns: list[str] = []
    for row in rows:
        columns.extend(k for k in row if k not in columns)
    writer = csv.DictWriter(buffer, fieldnames=columns or ["(empty)"])
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("'" + v if isinstance(v, str) and v[:1] in "=+-@" else v) for k, v in row.items()})
    return buffer.getvalue()


def build_export(learner_id: int, *, now: datetime | None = None) -> Export:
    """Build the learner's export ZIP (JSON + CSV per section, ``index.html``); raises ``UnknownLearner``.

    Worded in the current request's language; outside a request (the CLI) a
    request context of the app is pushed for the wording and links. ``now``
    (UTC) is the instant written in ``index.html``.
    """
    context = nullcontext() if has_request_context() else current_app.test_request_context()
    with context:
        learner = data_requests.learner_for_export(learner_id)
        name, username = learner.display_name, learner.username
        data = export_rows(learner_id)
        counts = {section: len(rows) for section, rows in data.items()}
        index = render_template(
            "data_export/index.html", lang=str(get_locale() or "en"), name=name,
            exported_at=as_utc(now or utcnow()).replace(microsecond=0).isoformat(), anonymous=ANONYMOUS_NAME,
            sections=[{"name": s, "title": SECTION_TITLES.get(s, s), "rows": n} for s, n in counts.items()])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for section, rows in data.items():
            archive.writestr(f"{section}.json", json.dumps(rows, indent=2, ensure_ascii=False, default=str))
            archive.writestr(f"{section}.csv", _csv(rows))
        archive.writestr("index.html", index)
    return Export(f"thrive-data-{username}.zip", buffer.getvalue(), counts)
