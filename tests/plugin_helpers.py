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


GOODS = ("reship", "free_goods")


def settle(api, case_id, reference="ERP-0001"):
    """Mark every approved, pending compensation line of a case done, each by the role that
    carries it out (goods: Sales; money: Finance); returns the case."""
    case = read(api, case_id)
    for line in case["compensation"]:
        if line["approved_at"] and line["execution"]["status"] == "pending":
            user = "sales" if line["kind"] in GOODS else "finance"
            url = f"/api/v1/case/{case_id}/compensation/{line['id']}/done"
            resp = api(user).post(url, json={"reference": reference})
            assert resp.status_code == 200, resp.get_json()
            case = resp.get_json()["result"]
    return case


def to_investigating(api, case_id, department="QA"):
    act(api, case_id, "agent", "accept")
    act(api, case_id, "supervisor", "assign", department=department)


def proposed_case(api):
    """A case at the proposal stage with one reshipment line worth 5.00."""
    case = api("agent").create_case(
        category="product_quality",
        goods_received_at="2026-11-20T09:00:00",
        received_at="2026-11-20T10:00:00",
        details={"problem": "short_shipment", "affected_quantity": 1, "unit_price": "5.00"},
    )
    add_evidence(api, case["id"], "photo")
    to_investigating(api, case["id"], department="WH")
    return act(api, case["id"], "qa", "propose", root_cause="漏装")
