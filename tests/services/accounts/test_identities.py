"""Platform identities from OpenID Connect claims (issue 13 items 1, 3): find, create, refresh, link, unlink."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from thrive.extensions import db
from thrive.models import Learner
from thrive.services.accounts import identities
from thrive.services.accounts.identities import ClaimMapping, profile_from_claims
from thrive.services.errors import Conflict, ValidationError

MAPPING = ClaimMapping()


def get(learner_id: int) -> Learner:
    db.session.expire_all()
    return db.session.get(Learner, learner_id)


def test_profile_reads_configured_claims_and_ignores_invalid_ones():
    profile = profile_from_claims({"sub": "u-1", "preferred_username": "has space", "name": "Ann",
                                   "email": "not-an-email", "zoneinfo": "Europe/Paris"}, MAPPING)
    assert (profile.external_id, profile.username, profile.display_name, profile.email, profile.timezone) == (
        "u-1", None, "Ann", None, "Europe/Paris")
    assert set(profile.ignored) == {"username", "email"}


def test_another_external_id_claim_and_numeric_ids():
    mapping = ClaimMapping(external_id="lms_user_id", email="")
    profile = profile_from_claims({"sub": "opaque", "lms_user_id": 4711, "email": "a@b.c"}, mapping)
    assert profile.external_id == "4711" and profile.email is None


@pytest.mark.parametrize("claims", [{}, {"sub": ""}, {"sub": True}, {"sub": ["x"]}, {"sub": "x" * 129}])
def test_no_usable_external_id(claims):
    with pytest.raises(ValidationError) as refused:
        profile_from_claims(claims, MAPPING)
    assert refused.value.code == "missing_external_id"


def test_finds_the_api_learner_and_refreshes_only_present_claims(app_ctx, make_learner):
    api_learner = make_learner("apiuser", password=None, external_id="lms-1", display_name="Old", timezone="UTC")
    outcome = identities.sign_in_from_claims({"sub": "lms-1", "name": "New Name"}, MAPPING)
    assert (outcome.learner_id, outcome.created, outcome.refreshed) == (api_learner.id, False, ("display_name",))
    fresh = get(api_learner.id)
    assert (fresh.display_name, fresh.timezone, fresh.username) == ("New Name", "UTC", "apiuser")


def test_creates_a_learner_with_a_free_username(app_ctx, make_learner):
    make_learner("sam")
    first = identities.sign_in_from_claims({"sub": "a", "preferred_username": "sam", "name": "Sam A"}, MAPPING)
    second = identities.sign_in_from_claims({"sub": "b", "name": "Sam B"}, MAPPING)
    third = identities.sign_in_from_claims({"sub": "c"}, MAPPING)
    names = {get(o.learner_id).username for o in (first, second, third)}
    assert first.created and second.created and third.created
    assert "sam" not in names and len(names) == 3
    assert all(identities.USERNAME_RE.match(n) for n in names)
    assert get(second.learner_id).username == "Sam-B" and get(third.learner_id).username.startswith("learner-")
    again = identities.sign_in_from_claims({"sub": "a"}, MAPPING)
    assert (again.learner_id, again.created) == (first.learner_id, False)
    assert db.session.scalar(select(func.count(Learner.id))) == 4


def test_deactivated(app_ctx, make_learner):
    learner = make_learner("off", external_id="lms-off")
    get(learner.id).is_active_account = False
    db.session.commit()
    with pytest.raises(identities.AccountDeactivated):
        identities.sign_in_from_claims({"sub": "lms-off", "name": "Changed"}, MAPPING)
    assert get(learner.id).display_name != "Changed"


def test_link_refuses_an_identity_in_use_and_a_second_identity(app_ctx, make_learner):
    owner = make_learner("owner", external_id="lms-owner")
    local = make_learner("local")
    with pytest.raises(Conflict) as in_use:
        identities.link_identity(local.id, {"sub": "lms-owner"}, MAPPING)
    assert in_use.value.code == "identity_in_use" and get(owner.id).external_id == "lms-owner"
    identities.link_identity(local.id, {"sub": "lms-local"}, MAPPING)
    identities.link_identity(local.id, {"sub": "lms-local"}, MAPPING)  # again: a no-op
    with pytest.raises(Conflict) as other:
        identities.link_identity(local.id, {"sub": "lms-else"}, MAPPING)
    assert other.value.code == "already_linked" and get(local.id).external_id == "lms-local"


def test_unlink_rules(app_ctx, make_learner):
    with_password = make_learner("withpw", external_id="e1")
    without = make_learner("nopw", password=None, external_id="e2")
    with pytest.raises(Conflict) as closed:
        identities.unlink_identity(with_password.id, local_accounts=False)
    assert closed.value.code == "platform_only"
    with pytest.raises(ValidationError) as needs:
        identities.unlink_identity(without.id, local_accounts=True)
    assert needs.value.code == "password_required" and get(without.id).external_id == "e2"
    with pytest.raises(ValidationError) as weak:
        identities.unlink_identity(without.id, local_accounts=True, new_password="short")
    assert weak.value.code == "weak_password"
    identities.unlink_identity(without.id, local_accounts=True, new_password="long-enough")
    assert get(without.id).external_id is None and get(without.id).password_hash
    identities.unlink_identity(with_password.id, local_accounts=True)
    assert get(with_password.id).external_id is None
    with pytest.raises(ValidationError) as not_linked:
        identities.unlink_identity(with_password.id, local_accounts=True)
    assert not_linked.value.code == "not_linked"
