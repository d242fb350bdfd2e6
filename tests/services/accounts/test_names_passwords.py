"""Names and passwords (issue 10 defects 6 and 11): one set of rules on forms, API and CLI."""
from __future__ import annotations

import pytest

from tests.conftest import csrf_token_from
from thrive.services.accounts.names import clean_display_name, clean_username
from thrive.services.accounts.passwords import check_new_password
from thrive.services.errors import ValidationError

BAD_DISPLAY_NAMES = ["Frank\x00", "Fr\u202eank", "Fr\u200bank", "\u2066Frank", "Frank\nAdmin", "Fr\x07ank",
                     "\ufeffFrank", "   ", "x" * 101, "Fr\ue000nk"]


@pytest.mark.parametrize("raw", BAD_DISPLAY_NAMES)
def test_display_name_rejects_invisible_and_control_characters(raw):
    with pytest.raises(ValidationError) as exc:
        clean_display_name(raw)
    assert exc.value.code == "invalid_display_name"


def test_display_name_normalised():
    assert clean_display_name("  Zoe\u0301   Zimmer ") == "Zo\u00e9 Zimmer"  # NFC, trimmed, collapsed
    assert clean_display_name("Ana María 李") == "Ana María 李"


@pytest.mark.parametrize("raw", ["frank\n", "frank\r\n", "fr ank", "fränk", "ab", "x" * 65, "frank\x00"])
def test_username_anchored_at_the_very_end(raw):
    with pytest.raises(ValidationError):
        clean_username(raw)
    assert clean_username("frank.o-k_1") == "frank.o-k_1"


def test_twin_username_rejected_on_form_api_and_cli(app, client, runner, make_learner, api_headers):
    make_learner("frank")
    page = client.get("/register").get_data(as_text=True)
    response = client.post("/register", data={
        "username": "frank2\n", "display_name": "Frank", "timezone": "UTC", "password": "quiet-lantern-47",
        "confirm": "quiet-lantern-47", "csrf_token": csrf_token_from(page)})
    assert response.status_code == 400
    api = client.put("/api/v1/users/ext-1", json={"username": "frank\n", "display_name": "Fr\u202eank"},
                     headers=api_headers)
    assert api.status_code in (400, 422) and api.get_json()["error"]["code"] != "internal_error"
    api = client.put("/api/v1/users/ext-1", json={"username": "frankly", "display_name": "Fr\u200bank"},
                     headers=api_headers)
    assert api.status_code in (400, 422)
    cli = runner.invoke(args=["thrive", "create-admin", "frank\n", "--password", "quiet-lantern-47"])
    assert cli.exit_code != 0 and "username" in cli.output


def test_settings_rejects_bidi_display_name(app, client, auth, make_learner):
    make_learner("learner")
    auth.login()
    page = client.get("/settings").get_data(as_text=True)
    response = client.post("/settings", data={"display_name": "Evil\u202eName", "timezone": "UTC", "topics": "",
                                              "csrf_token": csrf_token_from(page)})
    assert response.status_code == 400 and "direction-changing" in response.get_data(as_text=True)


@pytest.mark.parametrize("password", ["password123", "qwertyuiop", "sarahsarah1", "Sarah2024!"])
def test_guessable_passwords_rejected_with_help(app_ctx, password):
    with pytest.raises(ValidationError) as exc:
        check_new_password(password, ["sarah", "Sarah Connor", "sarah@example.org"])
    assert exc.value.code == "weak_password" and "too easy to guess" in exc.value.message


def test_strong_password_accepted_and_register_form_explains(app, client):
    check_new_password("quiet-lantern-47", ["newbie"])
    page = client.get("/register").get_data(as_text=True)
    response = client.post("/register", data={
        "username": "newbie", "display_name": "New Bie", "timezone": "UTC", "password": "password123",
        "confirm": "password123", "csrf_token": csrf_token_from(page)})
    assert response.status_code == 400 and "too easy to guess" in response.get_data(as_text=True)
