"""Pending celebrations carried out of band by polling fragments (§7).

A poll (the bell on every page, the status panel at home) appends
``celebration_oob()`` to its fragment: when a celebration is pending it is
claimed and rendered as an ``hx-swap-oob="beforeend"`` into
``#celebration-slot``, so it appears without a reload — exactly once.
"""
from __future__ import annotations

from flask import render_template

from thrive.services.notifications.celebrations import claim_pending


def celebration_oob(learner_id: int) -> str:
    """The out-of-band markup for the learner's pending celebrations ('' when none)."""
    celebrations = claim_pending(learner_id)
    if not celebrations:
        return ""
    return render_template("_celebration_oob.html", celebrations=celebrations)


def bell_oob(unread: int) -> str:
    """The bell re-rendered for an out-of-band swap (after marking notifications read)."""
    return render_template("_bell.html", unread=unread, oob=True)
