"""Community views: parse the request, call a service, render a page or its HTMX fragment (§7, §8).

One URL serves both the page and its panel (``page_or_fragment``):

- ``/community`` and ``/community/feed`` — the community page / the feed panel
  (``?before=<cursor>``: the next page; as a fragment only the items, appended
  by "load more"); ``/community/following`` — the same with the Following tab;
- ``/community/group?key=<bucket>`` — the listed items of one feed group (fetched when it is opened);
- ``/community/stats`` — stats panel; ``/community/discover`` — discover panel
  (``?tier=&topic=``);
- ``POST /community/cheer`` — cheer a feed item (fragment: the cheer button, plus
  a "+N points" toast);
- ``/u/<username>`` — public profile (fragment: its activity);
  ``/u/<username>/followers`` and ``/u/<username>/following`` — lists;
- ``POST /u/<username>/follow`` / ``unfollow`` (fragment: the follow button),
  ``POST /community/following/<id>/unfollow`` for someone whose profile is now private.

Without JavaScript every form posts normally and redirects back (``next``).
"""
from __future__ import annotations

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from thrive.services.achievements.reading import profile_badges
from thrive.services.community import cheers as community
from thrive.services.community import discover as discover_service
from thrive.services.community import feed as feed_service
from thrive.services.community import follows
from thrive.services.errors import Conflict, ValidationError
from thrive.services.points.registry import load_registry

from ...timeutil import utc_iso
from ..auth.views import safe_next
from ..htmx import is_htmx, page_or_fragment, with_points_toast
from ..i18n import gettext, ngettext
from ..params import MAX_PAGE, parse_int
from . import bp

PAGE_TEMPLATE = "community/index.html"
PAGE_BLOCKS = ("stats_panel", "feed_panel", "discover_panel")


bp.app_template_filter("utc_iso")(utc_iso)  # ISO 8601 UTC to the second, for ``<time datetime>``


def _here() -> str:
    """The current local URL (for ``next`` in non-JS forms)."""
    return request.full_path.rstrip("?")


def _back(default: str) -> str:
    """The form's ``next`` when it is a safe local path, else ``default`` (no open redirects)."""
    target = request.form.get("next")
    return target if target and safe_next(target) == target else default


def _render_community(block: str, *, tab: str = "everyone"):
    """The community page, or ``block`` alone for HTMX; only the context that is rendered is computed.

    ``tab`` is ``"everyone"`` or ``"following"`` (which feed the page shows);
    ``?before=<cursor>`` pages the feed, ``?tier=&topic=`` filter discover.
    A bad discover filter answers 400 with the message in the panel; a bad
    cursor answers 400 (``ValidationError``).
    """
    learner_id = current_user.id
    before = request.args.get("before") or None
    wanted = {block} if is_htmx() else set(PAGE_BLOCKS)
    ctx: dict = {"tab": tab, "here": _here(), "is_fragment": is_htmx(),
                 "feed_endpoint": "community.following" if tab == "following" else "community.feed"}
    if "stats_panel" in wanted:
        ctx["stats"] = community.weekly_stats()
        ctx["min_aggregate"] = community.MIN_AGGREGATE_LEARNERS
    if wanted & {"feed_panel", "feed_more"}:
        ctx["feed"] = feed_service.feed_page(learner_id, scope="following" if tab == "following" else "everyone",
                                             before=before)
    if "discover_panel" in wanted:
        ctx.update(_discover_context(learner_id))
    response = page_or_fragment(PAGE_TEMPLATE, block, **ctx)
    if ctx.get("discover_error"):
        response.status_code = 400
    return response


def _discover_context(learner_id: int) -> dict:
    tier, topic = request.args.get("tier", ""), request.args.get("topic", "")
    try:
        result = discover_service.discover(learner_id, tier=tier, topic=topic)
        error = None
    except ValidationError as exc:
        result, error = discover_service.DiscoverResult([], None, None), exc.message
    return {"discover": result, "discover_error": error, "tiers": load_registry().tiers,
            "my_topics": result.viewer_topics if error is None else current_user.topics,
            "filter_tier": tier, "filter_topic": topic}


@bp.route("/community")
@login_required
def index():
    """The community page: stats, the Everyone feed, discover (§7)."""
    return _render_community("feed_panel")


@bp.route("/community/feed")
@login_required
def feed():
    """The Everyone feed: its panel, or with ``?before`` the next page's items (§8.1)."""
    return _render_community("feed_more" if request.args.get("before") else "feed_panel")


@bp.route("/community/following")
@login_required
def following():
    """The Following tab: followed learners' shared activity and tier-ups (§8.3)."""
    return _render_community("feed_more" if request.args.get("before") else "feed_panel", tab="following")


@bp.route("/community/group")
@login_required
def group():
    """The listed items of one feed group (``?key=<bucket>``, ``&tab=following`` for the Following feed, §8.1).

    A feed page shows each group's headline; opening it fetches this (HTMX: the items alone), and without
    JavaScript its link shows them as a page. 404 when the feed no longer holds that group.
    """
    tab = "following" if request.args.get("tab") == "following" else "everyone"
    unit = feed_service.feed_group(current_user.id, request.args.get("key", ""), scope=tab)
    if unit is None:
        abort(404)
    back = url_for("community.following" if tab == "following" else "community.index")
    # a cheer or report posted without JavaScript returns to this page; from the opened group, to the feed
    return page_or_fragment("community/group.html", "group_items", group=unit, tab=tab, back=back,
                            here=back if is_htmx() else _here())


@bp.route("/community/stats")
@login_required
def stats():
    """Community stats this week (§7)."""
    return _render_community("stats_panel")


@bp.route("/community/discover")
@login_required
def discover():
    """Discover learners who share their profile, random order, by tier and topic (§8.2)."""
    return _render_community("discover_panel")


def _int_field(name: str) -> int:
    return parse_int(request.form.get(name), name, code="invalid_target")


@bp.route("/community/cheer", methods=["POST"])
@login_required
def cheer():
    """Cheer a feed item (§8.1): ``kind`` (entry|tier_up) and ``id`` form fields."""
    kind = (request.form.get("kind") or "").strip()
    target_id = _int_field("id")
    try:
        result = community.cheer(current_user.id, kind, target_id)
        points, cheers, message = (result.points_awarded, result.cheers,
                                  gettext("You cheered %(name)s on!", name=result.recipient_name))
    except Conflict as exc:
        if exc.code != "already_cheered":
            raise
        points, cheers, message = 0, None, gettext("You already cheered this.")
    if is_htmx():
        if cheers is None:
            cheers = community.cheer_count(kind, target_id)
        item = {"kind": kind, "id": target_id, "cheered": True, "cheers": cheers, "can_cheer": True,
                "dom_id": f"feed-{kind.replace('_', '-')}-{target_id}"}
        response = make_response(render_template("community/_cheer_response.html", item=item,
                                                 here=_back(url_for("community.index"))))
        return with_points_toast(response, points, gettext("cheer"))
    if points:
        message += " " + ngettext("+%(num)s point", "+%(num)s points", points)
    flash(message, "success")
    return redirect(_back(url_for("community.index")))


# --- profiles and follows -----------------------------------------------------

@bp.route("/u/<username>")
@login_required
def profile(username: str):
    """A learner's public profile (§7); private or unknown → 404 (§8.4). Fragment: its activity."""
    prof = community.public_profile(username, current_user.id, before=request.args.get("before") or None)
    badges = profile_badges(prof.learner_id)  # §10: public badges only (never private or revoked)
    return page_or_fragment("profile/show.html", "profile_activity", profile=prof, here=_here(), badges=badges)


def _follow_response(username: str, name: str, following: bool, message: str):
    if is_htmx():
        return render_template("profile/_follow.html", username=username, name=name, following=following,
                               here=_back(url_for("community.profile", username=username)))
    flash(message, "success")
    return redirect(_back(url_for("community.profile", username=username)))


@bp.route("/u/<username>/follow", methods=["POST"])
@login_required
def follow(username: str):
    """Follow a learner who shares their profile (§8.3)."""
    target = community.visible_learner(username, current_user.id)
    follows.follow(current_user.id, target.id)
    return _follow_response(target.username, target.display_name, True,
                            gettext("You now follow %(name)s.", name=target.display_name))


@bp.route("/u/<username>/unfollow", methods=["POST"])
@login_required
def unfollow(username: str):
    """Stop following a learner (§8.3)."""
    target = community.visible_learner(username, current_user.id)
    follows.unfollow(current_user.id, target.id)
    return _follow_response(target.username, target.display_name, False,
                            gettext("You no longer follow %(name)s.", name=target.display_name))


@bp.route("/community/following/<int:learner_id>/unfollow", methods=["POST"])
@login_required
def unfollow_id(learner_id: int):
    """Stop following someone listed as "A learner" (their profile is private, so no username)."""
    if not follows.unfollow(current_user.id, learner_id):
        abort(404)
    if is_htmx():
        return render_template("profile/_unfollowed.html")
    flash(gettext("You no longer follow them."), "success")
    return redirect(_back(url_for("community.following_list", username=current_user.username)))


def _people(username: str, direction: str):
    owner = community.visible_learner(username, current_user.id)
    page = parse_int(request.args.get("page"), "page", default=1, maximum=MAX_PAGE, code="invalid_page")
    listing = (follows.followers if direction == "followers" else follows.following)(owner.id, page)
    mine = follows.followed_among(current_user.id, [p.id for p in listing.people])
    return page_or_fragment("profile/people.html", "people_panel", owner=owner, direction=direction,
                            listing=listing, mine=mine, is_owner=owner.id == current_user.id, here=_here())


@bp.route("/u/<username>/followers")
@login_required
def followers_list(username: str):
    """Who follows this learner (§8.3)."""
    return _people(username, "followers")


@bp.route("/u/<username>/following")
@login_required
def following_list(username: str):
    """Whom this learner follows (§8.3)."""
    return _people(username, "following")
