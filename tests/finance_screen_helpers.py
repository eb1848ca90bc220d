"""Cases with approved compensation for the finance screens' tests, through the real API and a
core category (logistics), so they also serve the live server of the Chromium tests."""

from __future__ import annotations

from tests.conftest import POSITIONS
from tests.plugin_helpers import act, read

CREDIT = {"kind": "credit_note", "amount": "120.00", "note": "破损 3 桶冲销"}
RESHIP = {
    "kind": "reship",
    "sku": "P-100",
    "batch_no": "B20261101",
    "quantity": 3,
    "unit_price": "40.00",
}

# The L1 signer of each approval position (tests/conftest.py POSITIONS).
SIGNERS = {position: user for user, line, position in POSITIONS if line == "L1"}


def approved_case(api, lines=(CREDIT, RESHIP), **overrides) -> dict:
    """A logistics case whose proposal (``lines``) was approved: at execution, lines pending."""
    details = {
        "problem": "transit_damage",
        "carrier_negotiation": "failed",
        "damage_severity": "severe",
    }
    case = api("agent").create_case(**{"details": details, **overrides})
    cid = case["id"]
    act(api, cid, "supervisor", "accept", override=True, comment="送货单后补")
    act(api, cid, "supervisor", "assign", department="QA", handler="qa")
    case = act(api, cid, "qa", "propose", root_cause="承运商装卸不当")
    resp = api("qa").put(
        f"/api/v1/case/{cid}/compensation",
        json={"lines": list(lines), "reason": "按破损数量补偿", "version": case["version"]},
    )
    assert resp.status_code == 200, resp.get_json()
    act(api, cid, "agent", "submit")
    case = read(api, cid)
    while case["status"] == "approving":
        step = next(a for a in case["approvals"] if a["decision"] == "pending")
        case = act(api, cid, SIGNERS[step["role"]], "approve")
    assert case["status"] == "executing", case["status"]
    return case


def line_of(case: dict, kind: str) -> dict:
    return next(line for line in case["compensation"] if line["kind"] == kind)
