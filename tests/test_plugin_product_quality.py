"""product_quality (产品质量) through the REST API: windows, evidence, reshipments, the CAPA loop."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.plugin_helpers import (
    MP4,
    act,
    add_evidence,
    codes,
    read,
    settle,
    to_investigating,
)


def receipt_case(
    api,
    problem="short_shipment",
    *,
    goods="2026-11-01T10:00:00",
    received="2026-11-02T10:00:00",
    batch="B2611",
    photo=True,
    **details,
):
    case = api("agent").create_case(
        category="product_quality",
        goods_received_at=goods,
        received_at=received,
        batch_no=batch,
        details={"problem": problem, **details},
    )
    if photo:
        add_evidence(api, case["id"], "photo")
    return read(api, case["id"])


@pytest.mark.parametrize(
    ("received", "late"),
    [
        ("2026-11-08T23:59:00", False),
        ("2026-11-09T00:01:00", True),
    ],  # 7 days in time; the 8th day late
)
def test_seven_days_after_receipt(api, received, late):
    case = receipt_case(api, received=received, affected_quantity=5)
    assert (("late_report", "goods_received_at") in codes(case)) is late


@pytest.mark.parametrize(
    ("change", "field"),
    [({"batch": None}, "batch_no"), ({"photo": False}, "photo"), ({}, "quantity")],
)
def test_each_missing_evidence_field(api, change, field):
    details = {} if field == "quantity" else {"affected_quantity": 4}
    case = receipt_case(api, **change, **details)
    assert codes(case) == [("missing_evidence", field)]


def test_a_video_counts_as_photo(api):
    case = receipt_case(api, photo=False, affected_quantity=4)
    assert codes(case) == [("missing_evidence", "photo")]
    add_evidence(api, case["id"], "video", MP4, "clip.mp4")
    assert codes(read(api, case["id"])) == []


def _propose(api, case):
    to_investigating(api, case["id"], department="WH")
    return act(api, case["id"], "qa", "propose", root_cause="仓库拣货错误")


@pytest.mark.parametrize(
    ("problem", "affected", "reship", "amount"),
    [
        ("short_shipment", 7, 7, "178.50"),
        ("wrong_shipment", 2, 2, "51.00"),
        ("damage_on_receipt", 7, 4, "102.00"),
        ("damage_on_receipt", 8, 4, "102.00"),
        ("damage_on_receipt", 1, 1, "25.50"),
    ],
)
def test_reshipment(api, problem, affected, reship, amount):
    case = _propose(api, receipt_case(api, problem, affected_quantity=affected, unit_price="25.50"))
    assert [
        (c["kind"], c["quantity"], c["unit_price"], c["amount"], c["sku"], c["batch_no"])
        for c in case["compensation"]
    ] == [("reship", reship, "25.50", amount, "P-100", "B2611")]
    assert case["compensation_total"] == amount


def test_unit_price_defaults_to_the_products(app, api):
    from core.extensions import db
    from core.models import Product

    with app.app_context():
        product = db.session.query(Product).filter_by(code="P-100").one()
        product.unit_price = "420.00"
        db.session.commit()
    case = _propose(api, receipt_case(api, "short_shipment", affected_quantity=2))
    assert case["compensation"][0]["amount"] == "840.00"


def test_defect_choices_follow_the_line(app, api):
    from core.services import lines
    from core.services.access import SYSTEM
    from tests.conftest import case_body

    ok = api("agent").post(
        "/api/v1/case/",
        json=case_body(
            category="product_quality", details={"problem": "quality_defect", "defect": "caking"}
        ),
    )
    assert ok.status_code == 201
    with app.app_context():
        lines.update_plugin_settings(
            SYSTEM, "L1", "product_quality", {"defects": ["particles", "sediment"]}
        )
    resp = api("agent").post(
        "/api/v1/case/",
        json=case_body(
            category="product_quality", details={"problem": "quality_defect", "defect": "caking"}
        ),
    )
    assert resp.status_code == 400 and "details.defect" in resp.get_json()["errors"]


def test_quality_defect_capa_loop(api):
    case = api("agent").create_case(
        category="product_quality",
        batch_no="B2610",
        details={
            "problem": "quality_defect",
            "affected_quantity": 10,
            "unit_price": "30.00",
            "defect": "particles",
            "remedy": "recall_credit_reship",
        },
    )
    cid = case["id"]
    assert case["acceptance_issues"] == []  # no receipt window for defects
    to_investigating(api, cid, department="QA")
    case = read(api, cid)
    assigned = dt.datetime.fromisoformat(case["deadlines"]["qa_first_reply"]) - dt.timedelta(
        hours=2
    )
    assert abs((assigned - dt.datetime.now(dt.UTC)).total_seconds()) < 60

    refused = act(api, cid, "qa", "propose", status=422, root_cause="原料批次杂质")
    assert {p["code"] for p in refused["problems"]} == {
        "missing_analysis",
        "missing_corrective_action",
    }

    resp = api("qa").post(
        f"/api/v1/quality/{cid}/analysis",
        json={
            "root_cause": "研磨工序筛网破损，颗粒混入",
            "responsible_unit": "生产部",
            "engineering_change_no": "ECN-2611-07",
        },
    )
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["result"]["details"]["responsible_unit"] == "生产部"
    assert resp.get_json()["result"]["root_cause"] == "研磨工序筛网破损，颗粒混入"
    first_reply = resp.get_json()["result"]["sla"]["qa_first_reply"]
    assert (first_reply["state"], first_reply["missed"]) == ("met", False)  # QA replied in time
    bad = api("dept").post(
        f"/api/v1/quality/{cid}/actions", json={"kind": "corrective", "description": "x"}
    )
    assert bad.status_code == 400 and {"responsible_unit", "due_date"} <= set(
        bad.get_json()["errors"]
    )
    resp = api("dept").post(
        f"/api/v1/quality/{cid}/actions",
        json={
            "kind": "corrective",
            "description": "更换筛网并增加过滤工序",
            "responsible_unit": "生产部",
            "due_date": "2026-12-10",
        },
    )
    assert resp.status_code == 201, resp.get_json()
    listed = api("finance").get(f"/api/v1/quality/{cid}/actions").get_json()["result"]
    assert [(a["kind"], a["due_date"]) for a in listed] == [("corrective", "2026-12-10")]

    case = act(api, cid, "qa", "propose")
    assert [(c["kind"], c["quantity"], c["amount"]) for c in case["compensation"]] == [
        ("credit_note", 10, "300.00"),
        ("reship", 10, "300.00"),
    ]
    act(api, cid, "agent", "submit")
    act(api, cid, "supervisor", "approve")
    settle(api, cid)
    act(api, cid, "sales", "execute")
    assert act(api, cid, "agent", "confirm")["status"] == "verifying"
    act(api, cid, "agent", "close", status=422)
    assert (
        act(api, cid, "qa", "verify", effective=False, comment="仍有颗粒")["status"]
        == "investigating"
    )
    # The approved compensation stands: proposing again adds nothing, and with nothing new
    # to approve or carry out the case goes straight back to the customer.
    case = act(api, cid, "qa", "propose")
    assert [(c["kind"], c["execution"]["status"]) for c in case["compensation"]] == [
        ("credit_note", "done"),
        ("reship", "done"),
    ]
    assert act(api, cid, "agent", "submit")["status"] == "confirming"
    act(api, cid, "agent", "confirm")
    # QA verifies the effect of an action carried out: the department reports it done first.
    refused = act(api, cid, "qa", "verify", status=422, effective=True)
    assert refused["problems"][0]["code"] == "corrective_action_open"
    action_id = listed[0]["id"]
    done = api("dept").post(
        f"/api/v1/quality/{cid}/actions/{action_id}/done", json={"note": "已更换筛网"}
    )
    assert done.status_code == 200, done.get_json()
    act(api, cid, "qa", "verify", effective=True)
    assert act(api, cid, "agent", "close")["status"] == "closed"


def test_an_ineffective_action_needs_one_carried_out_since(api):
    """Found not effective, the case goes back to investigation: verifying it effective again
    needs a corrective action reported done after that, not the one that failed."""
    case = api("agent").create_case(
        category="product_quality",
        demand="improvement",
        details={"problem": "quality_defect", "remedy": "explain"},
    )
    cid = case["id"]
    to_investigating(api, cid, department="QA")
    due = (dt.date.today() + dt.timedelta(days=7)).isoformat()
    body = {"kind": "corrective", "description": "更换筛网", "responsible_unit": "生产部"}
    first = api("qa").post(f"/api/v1/quality/{cid}/actions", json={**body, "due_date": due})
    done = f"/api/v1/quality/{cid}/actions/{first.get_json()['id']}/done"
    assert api("qa").post(done, json={"note": "已更换"}).status_code == 200
    analysis = {"root_cause": "原料杂质", "responsible_unit": "生产部"}
    assert api("qa").post(f"/api/v1/quality/{cid}/analysis", json=analysis).status_code == 200
    act(api, cid, "qa", "propose")
    assert act(api, cid, "agent", "submit")["status"] == "confirming"
    act(api, cid, "agent", "confirm")
    act(api, cid, "qa", "verify", effective=False, comment="仍有颗粒")
    act(api, cid, "qa", "propose")
    act(api, cid, "agent", "submit")
    act(api, cid, "agent", "confirm")
    refused = act(api, cid, "qa", "verify", status=422, effective=True)
    assert refused["problems"][0]["code"] == "corrective_action_missing"
    # a whitespace note is refused naming the field by its label
    second = api("qa").post(
        f"/api/v1/quality/{cid}/actions",
        json={**body, "description": "加装过滤网", "due_date": due},
    )
    done = f"/api/v1/quality/{cid}/actions/{second.get_json()['id']}/done"
    blank = api("qa").post(done, json={"note": "  "})
    assert blank.status_code == 400 and "note" in blank.get_json()["errors"]
    assert "note" not in blank.get_json()["message"]
    assert api("qa").post(done, json={"note": "已加装"}).status_code == 200
    act(api, cid, "qa", "verify", effective=True)
    assert act(api, cid, "agent", "close")["status"] == "closed"


@pytest.mark.parametrize(
    ("remedy", "lines"),
    [
        ("credit_to_zero", [("credit_note", "60.00")]),
        ("free_goods", [("free_goods", "60.00")]),
        ("reship_then_recall", [("reship", "60.00"), ("credit_note", "60.00")]),
        ("explain", []),
    ],
)
def test_defect_remedies(api, remedy, lines):
    case = api("agent").create_case(
        category="product_quality",
        details={
            "problem": "quality_defect",
            "affected_quantity": 2,
            "unit_price": "30.00",
            "remedy": remedy,
            "responsible_unit": "生产部",
        },
    )
    to_investigating(api, case["id"])
    api("qa").post(
        f"/api/v1/quality/{case['id']}/actions",
        json={
            "kind": "corrective",
            "description": "整改",
            "responsible_unit": "生产部",
            "due_date": "2026-12-01",
        },
    )
    case = act(api, case["id"], "qa", "propose", root_cause="x")
    assert [(c["kind"], c["amount"]) for c in case["compensation"]] == lines
    if remedy == "free_goods":
        assert (
            case["compensation"][0]["note"]
            == "免费订货单（单价为零），订单须注明客诉编号"  # translated for the reader
        )
    if remedy == "explain":
        assert case["proposal_note"].startswith("非我方责任")


def test_capa_rules_follow_the_record_rule(api):
    case = api("agent").create_case(
        category="product_quality", details={"problem": "quality_defect"}
    )
    body = {
        "kind": "corrective",
        "description": "x",
        "responsible_unit": "y",
        "due_date": "2026-12-01",
    }
    assert api("agent2").post(f"/api/v1/quality/{case['id']}/actions", json=body).status_code == 404
    assert api("agent").post(f"/api/v1/quality/{case['id']}/actions", json=body).status_code == 403
    assert (
        api("agent")
        .post(
            f"/api/v1/quality/{case['id']}/analysis",
            json={"root_cause": "x", "responsible_unit": "y"},
        )
        .status_code
        == 403
    )
    # a responsible department acts only on the cases assigned to it
    to_investigating(api, case["id"], department="WH")
    assert api("dept").post(f"/api/v1/quality/{case['id']}/actions", json=body).status_code == 403
    other = api("agent").create_case(category="logistics")
    assert api("qa").post(f"/api/v1/quality/{other['id']}/actions", json=body).status_code == 409


def test_issues_are_read_in_the_readers_language(api):
    case = receipt_case(api, batch=None, affected_quantity=4)
    zh = api("agent").get(f"/api/v1/case/{case['id']}").get_json()["result"]["acceptance_issues"]
    en = (
        api("agent")
        .get(f"/api/v1/case/{case['id']}?_l_=en")
        .get_json()["result"]["acceptance_issues"]
    )
    assert zh == [{"code": "missing_evidence", "field": "batch_no", "message": "请填写生产批次。"}]
    assert en == [
        {"code": "missing_evidence", "field": "batch_no", "message": "Give the production batch."}
    ]


def test_capa_times_are_in_the_lines_timezone_and_checks_come_in_order(api):
    case = api("agent").create_case(
        category="product_quality", details={"problem": "quality_defect"}
    )
    resp = api("qa").post(
        f"/api/v1/quality/{case['id']}/actions",
        json={
            "kind": "preventive",
            "description": "x",
            "responsible_unit": "y",
            "due_date": "2026-12-01",
        },
    )
    assert resp.get_json()["result"]["created_at"].endswith("+08:00")
    assert api("agent").post(f"/api/v1/quality/{case['id']}/analysis", json=[]).status_code == 403
    act(api, case["id"], "agent", "reject", comment="不予受理")
    resp = api("qa").post(
        f"/api/v1/quality/{case['id']}/actions",
        json={
            "kind": "preventive",
            "description": "x",
            "responsible_unit": "y",
            "due_date": "2026-12-01",
        },
    )
    assert resp.status_code == 409


def test_the_department_reports_its_action_done_once_and_it_leaves_my_work(app, api):
    from tests.test_workspace import work

    case = api("agent").create_case(
        category="product_quality", details={"problem": "quality_defect"}
    )
    to_investigating(api, case["id"])  # to the QA department, the dept user's
    due = (dt.date.today() + dt.timedelta(days=10)).isoformat()
    body = {"kind": "corrective", "description": "更换筛网", "responsible_unit": "生产部"}
    action = api("dept").post(
        f"/api/v1/quality/{case['id']}/actions", json={**body, "due_date": due}
    )
    assert action.status_code == 201, action.get_json()
    aid = action.get_json()["id"]
    assert action.get_json()["result"]["done_at"] is None
    assert work(app, "dept")["capa_actions"][0] == [case["number"]]
    done = f"/api/v1/quality/{case['id']}/actions/{aid}/done"
    refused = api("dept").post(done, json={"note": ""})
    assert refused.status_code == 400 and "note" in refused.get_json()["errors"]
    assert api("agent").post(done, json={"note": "已更换"}).status_code == 403
    assert api("agent2").post(done, json={"note": "已更换"}).status_code == 404
    missing = f"/api/v1/quality/{case['id']}/actions/{aid + 999}/done"
    assert api("dept").post(missing, json={"note": "已更换"}).status_code == 404
    resp = api("dept").post(done, json={"note": "已更换 200 目筛网"})
    assert resp.status_code == 200, resp.get_json()
    result = resp.get_json()["result"]
    assert result["done_by"] == "dept" and result["done_note"] == "已更换 200 目筛网"
    assert result["done_at"].endswith("+08:00")
    assert api("dept").post(done, json={"note": "再次"}).status_code == 409
    assert work(app, "dept")["capa_actions"][0] == []
    listed = api("qa").get(f"/api/v1/quality/{case['id']}/actions").get_json()["result"]
    assert listed[0]["done_note"] == "已更换 200 目筛网"


def test_qa_chooses_the_remedy_with_the_analysis_and_the_proposal_follows(api):
    case = api("agent").create_case(
        category="product_quality",
        details={"problem": "quality_defect", "affected_quantity": 4, "unit_price": "25.00"},
    )
    cid = case["id"]
    to_investigating(api, cid, department="QA")
    analysis = {"root_cause": "原料杂质", "responsible_unit": "生产部"}
    bad = api("qa").post(f"/api/v1/quality/{cid}/analysis", json={**analysis, "remedy": "gold"})
    assert bad.status_code == 400 and "remedy" in bad.get_json()["errors"]
    resp = api("qa").post(
        f"/api/v1/quality/{cid}/analysis", json={**analysis, "remedy": "free_goods"}
    )
    assert resp.get_json()["result"]["details"]["remedy"] == "free_goods"
    resp = api("qa").post(f"/api/v1/quality/{cid}/analysis", json=analysis)  # kept
    assert resp.get_json()["result"]["details"]["remedy"] == "free_goods"
    api("qa").post(
        f"/api/v1/quality/{cid}/actions",
        json={
            "kind": "corrective",
            "description": "加装过滤网",
            "responsible_unit": "生产部",
            "due_date": (dt.date.today() + dt.timedelta(days=7)).isoformat(),
        },
    )
    case = act(api, cid, "qa", "propose")
    assert [(c["kind"], c["quantity"]) for c in case["compensation"]] == [("free_goods", 4)]


def test_an_emptied_defect_list_offers_the_known_defects(app, api):
    """Saving the line's defect list empty does not leave the intake without choices."""
    from core.extensions import db
    from core.services import lines
    from core.services.access import SYSTEM

    with app.app_context():
        lines.update_plugin_settings(SYSTEM, "L1", "product_quality", {"defects": ""})
        db.session.remove()
    fields = api("agent").get("/api/v1/case/fields?business_line=L1").get_json()["categories"]
    quality = next(c for c in fields if c["key"] == "product_quality")
    assert quality["details"]["properties"]["defect"]["enum"]
    case = api("agent").create_case(
        category="product_quality", details={"problem": "quality_defect"}
    )
    assert case["category"] == "product_quality"
