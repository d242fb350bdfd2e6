"""HTTP details (issue 10 defect 12): 405 carries Allow; signed-in pages are not cached; the OpenAPI document."""
from __future__ import annotations


def test_405_answers_carry_allow(client, api_headers):
    html = client.delete("/login")
    assert html.status_code == 405 and set(html.headers["Allow"].split(", ")) >= {"GET", "POST"}
    api = client.patch("/api/v1/events", headers=api_headers)
    assert api.status_code == 405 and "POST" in api.headers["Allow"]
    assert api.get_json()["error"]["code"] == "method_not_allowed"


def test_signed_in_pages_are_no_store(client, auth, make_learner):
    assert "no-store" not in client.get("/login").headers.get("Cache-Control", "")
    make_learner("learner")
    auth.login()
    for path in ("/", "/settings", "/community", "/notifications"):
        assert client.get(path).headers.get("Cache-Control") == "no-store", path


def test_openapi_declares_email_format_cursor_and_new_operations(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    upsert = doc["components"]["schemas"]["UserUpsert"]["properties"]
    assert upsert["email"]["format"] == "email"
    operation = doc["paths"]["/api/v1/users/{external_id}/events"]["get"]
    params = {p["name"]: p for p in operation["parameters"] if "name" in p}
    assert params["cursor"]["schema"]["type"] == "string" and "paque" in params["cursor"]["description"]
    assert "delete" in doc["paths"]["/api/v1/users/{external_id}"]
    assert "get" in doc["paths"]["/api/v1/users/{external_id}/export"]
