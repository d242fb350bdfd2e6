"""``flask thrive sign-in-link USERNAME`` (issue 13): the ops door when local accounts are off."""
from __future__ import annotations

from urllib.parse import urlsplit


def test_prints_a_link_that_signs_the_learner_in_once(app, runner, make_learner):
    admin = make_learner("staff", is_admin=True)
    result = runner.invoke(args=["thrive", "sign-in-link", "STAFF", "--next", "/settings",
                                 "--base-url", "https://thrive.example.org"])
    assert result.exit_code == 0, result.output
    url = result.output.strip().splitlines()[-1]
    assert url.startswith("https://thrive.example.org/sign-in/")
    client = app.test_client()
    first = client.get(urlsplit(url).path)
    assert first.status_code == 302 and first.headers["Location"] == "/settings"
    with client.session_transaction() as session:
        assert int(session["_user_id"].split(":")[0]) == admin.id
    assert app.test_client().get(urlsplit(url).path).status_code == 410


def test_clear_errors(app, runner, make_learner):
    unknown = runner.invoke(args=["thrive", "sign-in-link", "ghost", "--base-url", "https://t.example"])
    assert unknown.exit_code == 1 and "no learner named 'ghost'" in unknown.output
    make_learner("someone")
    no_base = runner.invoke(args=["thrive", "sign-in-link", "someone"])
    assert no_base.exit_code == 1 and "THRIVE_PUBLIC_URL" in no_base.output
    bad_next = runner.invoke(args=["thrive", "sign-in-link", "someone", "--next", "https://evil.example",
                                   "--base-url", "https://t.example"])
    assert bad_next.exit_code == 1 and "next must be a path inside Thrive" in bad_next.output
