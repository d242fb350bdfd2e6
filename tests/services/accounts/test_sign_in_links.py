"""One-time sign-in links, the service (issue 13 item 2): single use, expiry, tampering, ``next``, deactivation."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from thrive.extensions import db
from thrive.models import Learner, SignInLink
from thrive.services.accounts import sign_in_links as links
from thrive.services.errors import Conflict, UnknownLearner, ValidationError
from thrive.timeutil import as_utc, utcnow


@pytest.fixture
def learner(app_ctx, make_learner):
    return make_learner("linked", password=None, external_id="lms-1")


def test_a_link_is_stored_as_a_hash_and_works_once(app_ctx, learner):
    now = utcnow()
    issued = links.create_link("lms-1", lifetime_seconds=300, next_path="/journey", now=now)
    assert links.TOKEN_RE.match(issued.token)
    assert issued.expires_at == now + timedelta(seconds=300) and issued.learner_id == learner.id
    row = db.session.scalar(select(SignInLink))
    assert row.token_hash == links.hash_token(issued.token) and issued.token not in row.token_hash
    assert row.used_at is None

    redeemed = links.redeem(issued.token, now=now + timedelta(seconds=10))
    assert (redeemed.learner_id, redeemed.next_path) == (learner.id, "/journey")
    db.session.expire_all()
    assert as_utc(db.session.scalar(select(SignInLink.used_at))) == now + timedelta(seconds=10)
    with pytest.raises(links.UsedLink) as second:
        links.redeem(issued.token, now=now + timedelta(seconds=11))
    assert (second.value.code, second.value.status) == ("link_used", 410)


def test_expiry_is_exact_and_an_expired_link_is_spent(app_ctx, learner):
    now = utcnow()
    issued = links.create_link("lms-1", lifetime_seconds=60, now=now)
    with pytest.raises(links.ExpiredLink) as expired:
        links.redeem(issued.token, now=now + timedelta(seconds=60))
    assert (expired.value.code, expired.value.status) == ("link_expired", 410)
    with pytest.raises(links.UsedLink):
        links.redeem(issued.token, now=now)  # presented once already: never again
    fresh = links.create_link("lms-1", lifetime_seconds=60, now=now)
    assert links.redeem(fresh.token, now=now + timedelta(seconds=59)).learner_id == learner.id


@pytest.mark.parametrize("mangle", [
    lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # one character changed
    lambda t: t[:-1],                                   # truncated
    lambda t: t + "x",                                  # extended
    lambda t: "../" + t[3:],                            # not a token at all
    lambda t: "",
])
def test_a_tampered_token_is_invalid_and_does_not_spend_the_real_one(app_ctx, learner, mangle):
    issued = links.create_link("lms-1", lifetime_seconds=300)
    with pytest.raises(links.InvalidLink) as invalid:
        links.redeem(mangle(issued.token))
    assert (invalid.value.code, invalid.value.status) == ("link_invalid", 400)
    assert links.redeem(issued.token).learner_id == learner.id


def test_unknown_external_id(app_ctx):
    with pytest.raises(UnknownLearner) as unknown:
        links.create_link("nobody", lifetime_seconds=300)
    assert unknown.value.status == 404
    assert db.session.scalar(select(func.count(SignInLink.id))) == 0


def test_deactivated_learner_gets_no_link_and_an_issued_link_stops_working(app_ctx, learner):
    issued = links.create_link("lms-1", lifetime_seconds=300)
    db.session.get(Learner, learner.id).is_active_account = False
    db.session.commit()
    with pytest.raises(links.DeactivatedLearner) as deactivated:
        links.redeem(issued.token)
    assert deactivated.value.status == 403
    with pytest.raises(Conflict) as refused:
        links.create_link("lms-1", lifetime_seconds=300)
    assert (refused.value.code, refused.value.status) == ("learner_deactivated", 409)


@pytest.mark.parametrize("path", ["/journey", "/u/someone", "/community?tab=following", "/"])
def test_next_paths_inside_thrive(path):
    assert links.clean_next_path(path) == path


@pytest.mark.parametrize("path", [
    "https://evil.example/", "//evil.example/x", "/\\evil.example", "journey", "javascript:alert(1)",
    "/api/v1/users/x", "/static/js/thrive.js", "/sign-in/abc", "/logout", "/login?next=//evil", "/a\nb",
    "/" + "a" * 600,
])
def test_next_paths_outside_thrive_are_refused(path):
    with pytest.raises(ValidationError) as refused:
        links.clean_next_path(path)
    assert refused.value.code == "invalid_next"


def test_links_of_a_learner_that_expired_long_ago_are_cleaned_up(app_ctx, learner):
    long_ago = utcnow() - timedelta(days=3)
    links.create_link("lms-1", lifetime_seconds=60, now=long_ago)
    links.create_link("lms-1", lifetime_seconds=60)
    assert db.session.scalar(select(func.count(SignInLink.id))) == 1


def test_two_concurrent_uses_sign_in_once(app, learner):
    """Both requests check the same link at the same moment: exactly one wins (row lock / BEGIN IMMEDIATE)."""
    with app.app_context():
        token = links.create_link("lms-1", lifetime_seconds=300).token
        db.session.remove()
    barrier = threading.Barrier(2)
    outcomes: list = []

    def use():
        with app.app_context():
            barrier.wait(timeout=30)
            try:
                outcomes.append(links.redeem(token).learner_id)
            except links.SignInLinkError as exc:
                outcomes.append(exc.code)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=use) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes, key=str) == sorted([learner.id, "link_used"], key=str)
