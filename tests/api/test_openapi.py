"""The OpenAPI 3 document at ``/api/v1/openapi.json`` (§13): valid, complete, true to the code."""
from __future__ import annotations

import re

import pytest
from openapi_spec_validator import validate

from thrive.services.points.award import AwardResult

STATUSES = {"400", "401", "404", "413", "422", "429"}


@pytest.fixture
def document(client) -> dict:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.is_json
    return response.get_json()


def _resolve(document: dict, ref: str) -> dict:
    node = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def test_document_validates(document):
    validate(document)  # raises on any violation of the OpenAPI 3 schema
    assert document["openapi"].startswith("3.0")


def test_every_route_and_method_is_documented(app, document):
    routes = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
            routes.setdefault(path, set()).update(m.lower() for m in rule.methods - {"HEAD", "OPTIONS"})
    assert routes  # the blueprint has routes
    documented = {path: set(ops) - {"parameters"} for path, ops in document["paths"].items()}
    assert documented == routes
    for path, methods in routes.items():
        for method in methods:
            operation = document["paths"][path][method]
            assert operation["summary"] and operation["operationId"] and operation["responses"]


def test_bearer_security_scheme_applies_to_all_but_the_document(document):
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "description": document["components"]["securitySchemes"][
            "bearerAuth"]["description"]}
    assert document["security"] == [{"bearerAuth": []}]
    for path, operations in document["paths"].items():
        for operation in operations.values():
            if path.endswith("/openapi.json"):
                assert operation["security"] == []
            else:
                assert "security" not in operation  # inherits bearerAuth
                assert "401" in operation["responses"] and "429" in operation["responses"]


def test_error_responses_use_the_error_schema(document):
    seen = set()
    for operations in document["paths"].values():
        for operation in operations.values():
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    seen.add(status)
                    response = _resolve(document, response["$ref"]) if "$ref" in response else response
                    assert response["content"]["application/json"]["schema"] == {
                        "$ref": "#/components/schemas/Error"}
    assert seen >= STATUSES
    error = document["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    body = _resolve(document, error["properties"]["error"]["$ref"])
    assert set(body["properties"]) == {"code", "message"} and set(body["required"]) == {"code", "message"}


def test_award_result_schema_matches_the_service(document):
    schema = document["components"]["schemas"]["AwardResult"]
    assert set(schema["properties"]) == set(AwardResult.__dataclass_fields__)
    for name in ("points_awarded", "capped", "duplicate", "total_points", "tier", "level", "tier_upgraded",
                 "level_upgraded", "event_id"):
        assert name in schema["required"]


def test_event_request_schema(document):
    schema = document["components"]["schemas"]["EventRequest"]
    assert set(schema["required"]) == {"user", "activity_type", "event_key"}
    assert set(schema["properties"]) == {"user", "activity_type", "event_key", "occurred_at", "metadata",
                                         "description", "points"}
    assert schema["properties"]["occurred_at"]["format"] == "date-time"
    assert schema["additionalProperties"] is False  # unknown fields are refused


def test_status_schema_has_the_required_fields(document):
    props = document["components"]["schemas"]["UserStatus"]["properties"]
    assert {"total_points", "weekly_points", "tier", "level", "current_streak", "longest_streak", "grace_days",
            "tier_progress", "lifetime", "weekly_goals"} <= set(props)


def test_ledger_query_parameters(document):
    params = document["paths"]["/api/v1/users/{external_id}/events"]["get"]["parameters"]
    query = {p["name"]: p for p in params if p.get("in") == "query"}
    assert set(query) == {"limit", "cursor"}
    assert query["limit"]["schema"]["maximum"] == 200 and query["limit"]["schema"]["minimum"] == 1


def test_documented_responses_match_real_ones(api, document):
    """The fields the document promises are the fields the API answers."""
    api.create_user("lms-1")
    award = api.event("lms-1", "comment_posted", "k").get_json()
    status = api.get("/api/v1/users/lms-1").get_json()
    page = api.get("/api/v1/users/lms-1/events").get_json()
    user = api.put("/api/v1/users/lms-1", json={"display_name": "X"}).get_json()
    schemas = document["components"]["schemas"]
    assert set(award) == set(schemas["AwardResult"]["properties"])
    assert set(status) == set(schemas["UserStatus"]["properties"])
    assert set(page) == set(schemas["LedgerPage"]["properties"])
    assert set(page["events"][0]) == set(schemas["LedgerEntry"]["properties"])
    assert set(user) == set(schemas["User"]["properties"])
