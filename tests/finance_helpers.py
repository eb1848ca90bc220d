"""Approved compensation lines for the finance export tests, and reading the files back."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
from decimal import Decimal

import openpyxl

from core.contracts import ApprovalStepSpec, ProposalLine
from core.extensions import db
from tests.conftest import make_plugin
from tests.plugin_helpers import act, read

CATEGORY = "fin_claims"
# batch number of the case -> the lines its proposal makes
PROPOSALS: dict[str, list[ProposalLine]] = {}
_seq = itertools.count(1)

EN_CREDIT = [
    "Case number",
    "Customer",
    "Business line",
    "Category",
    "Kind",
    "SKU",
    "Batch",
    "Quantity",
    "Unit price",
    "Amount (CNY)",
    "Note",
    "Approved on",
    "Approvers",
    "Line ID",
]
ZH_CREDIT = [
    "客诉编号",
    "客户",
    "业务线",
    "类别",
    "类型",
    "物料编码",
    "批次",
    "数量",
    "单价（元）",
    "金额（元）",
    "备注",
    "批准日期",
    "审批人",
    "明细号",
]
EN_RESHIP = [
    "Case number",
    "Customer",
    "Contact",
    "Phone",
    "Ship-to address",
    "SKU",
    "Product",
    "Batch",
    "Quantity",
    "Kind",
    "Note",
    "Approved on",
    "Line ID",
]
ZH_RESHIP = [
    "客诉编号",
    "客户",
    "联系人",
    "电话",
    "收货地址",
    "物料编码",
    "产品",
    "批次",
    "数量",
    "类型",
    "备注",
    "批准日期",
    "明细号",
]


def install_category(temp_plugin) -> str:
    """A category whose proposal is PROPOSALS[batch no] and needs two sign-offs (for a
    ``fin`` fixture: ``install_category(temp_plugin)``)."""

    def proposal(case):
        if case.category != CATEGORY:
            return None
        return list(PROPOSALS.get(case.batch_no, []))

    def steps(case, lines):
        if case.category != CATEGORY:
            return None
        return [
            ApprovalStepSpec("cs_supervisor", ("cs_supervisor",)),
            ApprovalStepSpec("regional_sales_manager", ("regional_sales_manager",)),
        ]

    temp_plugin(
        make_plugin(CATEGORY, kesu_compensation_proposal=proposal, kesu_approval_steps=steps)
    )
    return CATEGORY


def approved_case(api, lines: list[ProposalLine], customer: dict | None = None) -> dict:
    """A case taken through the real workflow to ``executing`` with ``lines`` approved by the
    supervisor and the regional sales manager; returns the CASE as the agent reads it."""
    batch = f"F{next(_seq):05d}"
    PROPOSALS[batch] = lines
    case = api("agent").create_case(
        category=CATEGORY,
        batch_no=batch,
        customer=customer or {"name": "上海经销商", "kind": "dealer"},
    )
    cid = case["id"]
    act(api, cid, "agent", "accept")
    act(api, cid, "supervisor", "assign", department="QA", handler="qa")
    act(api, cid, "qa", "propose", root_cause="运输破损")
    act(api, cid, "agent", "submit")
    act(api, cid, "supervisor", "approve")
    case = act(api, cid, "rsm", "approve")
    assert case["status"] == "executing", case["status"]
    return read(api, cid)


def direct_lines(
    app,
    count: int,
    *,
    code: str = "L1",
    kind: str = "credit_note",
    amount: str = "10.00",
    approved_at: dt.datetime | None = None,
) -> list[int]:
    """``count`` approved, pending lines on one new case of ``code``, written straight to the
    database (for the many-line and concurrency tests): their ids."""
    from core.db import utcnow
    from core.models import Case, CompensationLine
    from core.services import cases
    from core.services.access import SYSTEM
    from tests.conftest import case_body

    body = case_body(business_line=code, batch_no=f"D{next(_seq):05d}")
    if code == "L2":
        body.update(customer={"name": "成都经销商", "kind": "dealer"}, product="B-200")
    with app.app_context():
        case_id = cases.create_case(SYSTEM, body).id
        case = db.session.get(Case, case_id)
        made = [
            CompensationLine(
                position=i,
                kind=kind,
                quantity=1,
                amount=Decimal(amount),
                approved_at=approved_at or utcnow(),
            )
            for i in range(1, count + 1)
        ]
        case.compensation.extend(made)
        case.status = "executing"
        db.session.commit()
        return [line.id for line in made]


def sheet(content: bytes):
    return openpyxl.load_workbook(io.BytesIO(content)).active


def rows(ws) -> list[list]:
    return [list(r) for r in ws.iter_rows(values_only=True)]


def csv_rows(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf")  # UTF-8 with a byte-order mark
    return list(csv.reader(io.StringIO(content[3:].decode("utf-8"), newline="")))


def no_formula(ws) -> None:
    for row in ws.iter_rows():
        for cell in row:
            assert cell.data_type != "f", cell.coordinate
