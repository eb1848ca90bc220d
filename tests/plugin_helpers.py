"""Helpers shared by the plugin API tests."""

from __future__ import annotations

from tests.test_evidence import PNG, upload

MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 64
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def codes(case) -> list[tuple[str, str | None]]:
    """The acceptance issues of a CASE as ``(code, field)`` pairs."""
    return [(i["code"], i.get("field")) for i in case["acceptance_issues"]]


def add_evidence(api, case_id, kind="photo", content=PNG, filename="photo.png", user="agent"):
    resp = upload(api(user), case_id, content, filename, kind=kind)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["result"]


def read(api, case_id, user="agent"):
    return api(user).get(f"/api/v1/case/{case_id}").get_json()["result"]


def act(api, case_id, user, action, status=200, **payload):
    resp = api(user).action(case_id, action, **payload)
    assert resp.status_code == status, (action, resp.get_json())
    return resp.get_json().get("result") if status == 200 else resp.get_json()


def to_investigating(api, case_id, department="QA"):
    act(api, case_id, "agent", "accept")
    act(api, case_id, "supervisor", "assign", department=department)
