"""/api/v1/_openapi is a valid OpenAPI document that describes what the API really returns."""

from __future__ import annotations

import pytest
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate

from tests.test_evidence import PNG, upload


@pytest.fixture
def spec(api):
    resp = api("agent").get("/api/v1/_openapi")
    assert resp.status_code == 200
    return resp.get_json()


def test_spec_is_valid_openapi(spec):
    validate(spec)


def test_spec_documents_every_case_endpoint(spec):
    paths = spec["paths"]
    for path, methods in {
        "/api/v1/case/": {"get", "post"},
        "/api/v1/case/{pk}": {"get", "put"},
        "/api/v1/case/{pk}/action/{name}": {"post"},
        "/api/v1/case/{pk}/evidence": {"post"},
        "/api/v1/case/{pk}/evidence/{evidence_id}": {"get"},
        "/api/v1/case/fields": {"get"},
        "/api/v1/customer/": {"get"},
        "/api/v1/product/": {"get"},
    }.items():
        assert methods <= set(paths[path]), path
    schemas = spec["components"]["schemas"]
    for category in ("logistics", "product_quality", "policy_returns", "terminal_consumer"):
        assert f"Details_{category}" in schemas


def _validator(spec, name):
    schema = {**spec["components"]["schemas"][name], "components": spec["components"]}
    return OAS30Validator(schema)


def test_a_real_case_matches_the_documented_schema(spec, api):
    agent = api("agent")
    case = agent.create_case(claim_amount="99.50", received_at="2026-11-20T09:00:00")
    upload(agent, case["id"], PNG)
    full = agent.get(f"/api/v1/case/{case['id']}").get_json()["result"]
    validator = _validator(spec, "Case")
    errors = [e.message for e in validator.iter_errors(full)]
    assert errors == []
    assert set(full) == set(spec["components"]["schemas"]["Case"]["properties"])


def test_documented_create_body_is_accepted(spec, api):
    body = {
        "business_line": "L1",
        "category": "logistics",
        "channel": "phone",
        "customer": {"name": "上海经销商"},
        "description": "x",
        "claim_amount": "10.00",
        "details": {"problem": "delay"},
    }
    assert list(_validator(spec, "CaseCreate").iter_errors(body)) == []
    assert api("agent").post("/api/v1/case/", json=body).status_code == 201


def test_reference_apis_apply_the_line_rule_and_masking(api):
    listed = api("finance").get("/api/v1/customer/").get_json()
    names = {c["name"] for c in listed["result"]}
    assert names == {"上海经销商"}
    assert listed["result"][0]["phone"] == "138****5678"
    assert api("agent").get("/api/v1/customer/").get_json()["result"][0]["phone"] == "13812345678"
    products = api("agent2").get("/api/v1/product/").get_json()["result"]
    assert [p["code"] for p in products] == ["B-200"]
    foreign = api("agent").get("/api/v1/customer/").get_json()["ids"]
    other = api("agent2").get("/api/v1/customer/").get_json()["ids"]
    assert api("agent").get(f"/api/v1/customer/{other[0]}").status_code == 404
    assert api("agent").get(f"/api/v1/customer/{foreign[0]}").status_code == 200
