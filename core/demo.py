"""Demo data: two business lines, a user per role, customers, products and cases in every
category at different stages. Loaded by ``kesu demo``; loading it twice changes nothing."""

from __future__ import annotations

import base64
import datetime as dt
import io
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app

from core.contracts import GOODS_KINDS
from core.db import utcnow
from core.extensions import db
from core.models import BusinessLine, Case, Customer, Department, KesuUser, Product, RootCause
from core.models.business_line import DEFAULT_TIMEZONE
from core.services import (
    cases,
    compensation,
    evidence,
    execution,
    lines,
    positions,
    records,
    workflow,
)
from core.services.access import SYSTEM
from core.services.lines import registry
from core.services.setup import create_user
from core.timeutil import zone

DEMO_PASSWORD = "kesu-demo-2026"
LINES = [("HUACAI", "华彩涂料"), ("QINGQUAN", "清泉饮料")]
DEPARTMENTS = [
    ("CS", "客服部"),
    ("QA", "品保课"),
    ("WH", "仓储部"),
    ("LOG", "物流部"),
    ("PROD", "生产部"),
    ("RD", "研发部"),
    ("SALES", "销售部"),
]
# username, role, lines (empty: all), department, name (surname first)
USERS = [
    ("admin", "Admin", [], None, "管理员"),
    ("kefu", "CS Agent", ["HUACAI", "QINGQUAN"], "CS", "李客服"),
    ("zhuguan", "CS Supervisor", ["HUACAI", "QINGQUAN"], "CS", "王主管"),
    ("pinbao", "QA", ["HUACAI", "QINGQUAN"], "QA", "赵品保"),
    ("cangchu", "Responsible Dept", ["HUACAI"], "WH", "钱仓储"),
    ("yewu", "Sales", ["HUACAI", "QINGQUAN"], "SALES", "孙业务"),
    ("jingli", "Manager", ["HUACAI", "QINGQUAN"], "SALES", "周经理"),
    ("caiwu", "Finance", ["HUACAI", "QINGQUAN"], None, "吴财务"),
    ("shenji", "Auditor", ["HUACAI", "QINGQUAN"], None, "郑审计"),
    ("qingquan", "CS Agent", ["QINGQUAN"], "CS", "冯饮料客服"),
    ("quyu", "Manager", ["HUACAI", "QINGQUAN"], "SALES", "陈区域经理"),
    ("xszj", "Manager", ["HUACAI", "QINGQUAN"], "SALES", "林销售总经理"),
    ("cangku", "Warehouse", ["HUACAI", "QINGQUAN"], "WH", "何仓库"),
]
# username -> approval positions held on every line of theirs (DOMAIN.md section 7)
POSITIONS = {
    "zhuguan": ["cs_supervisor"],
    "quyu": ["regional_sales_manager"],
    "xszj": ["sales_gm"],
    "jingli": ["marketing_director", "general_manager", "leadership"],
}
CUSTOMERS = {
    "HUACAI": [
        (
            "上海华东建材经销部",
            "dealer",
            "张建国",
            "13812345678",
            "zhangjg@example.com",
            "上海市闵行区建材路 88 号",
        ),
        (
            "杭州美家装饰连锁",
            "key_account",
            "陈丽",
            "13905711234",
            "chenli@example.com",
            "杭州市西湖区文三路 200 号",
        ),
        ("王女士", "consumer", "王女士", "13600001111", None, "南京市鼓楼区"),
    ],
    "QINGQUAN": [
        ("成都天府饮品批发", "dealer", "刘强", "13708081234", "liuq@example.com", "成都市武侯区"),
        ("蜀都超市", "key_account", "黄敏", "13550001234", None, "成都市锦江区"),
    ],
}
PRODUCTS = {
    "HUACAI": [
        ("HC-W100", "外墙乳胶漆 18L", "420.00"),
        ("HC-I200", "内墙净味乳胶漆 18L", "680.00"),
    ],
    "QINGQUAN": [
        ("QQ-500", "天然矿泉水 500ml×24", "36.00"),
        ("QQ-TEA", "茉莉花茶饮料 500ml×15", "48.00"),
    ],
}
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def _user(name: str) -> KesuUser:
    return db.session.scalar(sa.select(KesuUser).where(KesuUser.username == name))


def _reference_data() -> None:
    for code, name in LINES:
        lines.create_line(SYSTEM, code=code, name=name, plugins=registry().keys)
    for code, name in DEPARTMENTS:
        records.save(SYSTEM, Department(code=code, name=name), "department")
    for code, rows in CUSTOMERS.items():
        line = lines.get_line(code)
        for name, kind, contact, phone, email, address in rows:
            records.save(
                SYSTEM,
                Customer(
                    business_line_id=line.id,
                    name=name,
                    kind=kind,
                    contact=contact,
                    phone=phone,
                    email=email,
                    address=address,
                ),
                "customer",
            )
    for code, rows in PRODUCTS.items():
        line = lines.get_line(code)
        for product_code, name, price in rows:
            records.save(
                SYSTEM,
                Product(business_line_id=line.id, code=product_code, name=name, unit_price=price),
                "product",
            )
    roles = set(current_app.config["FAB_ROLES"])
    for username, role, user_lines, department, name in USERS:
        if role not in roles:
            continue  # the plugin that declares the role is not installed
        create_user(
            SYSTEM,
            username=username,
            password=DEMO_PASSWORD,
            roles=[role],
            lines=user_lines,
            department=department,
            name=name,
            email=f"{username}@demo.kesu.invalid",
        )
        for code in user_lines:
            for position in POSITIONS.get(username, ()):
                positions.grant(SYSTEM, username, code, position)


def _ago(days: float) -> str:
    return (_anchor() - dt.timedelta(days=days)).isoformat()


def _anchor() -> dt.datetime:
    """Now, or today's noon in the demo lines' time zone when that is earlier: the demo's
    times of day then never cross local midnight (goods received and reported hours later stay
    on one day, whatever the hour the demo is loaded)."""
    now = utcnow()
    local = now.astimezone(zone(DEFAULT_TIMEZONE))
    noon = local.replace(hour=12, minute=0, second=0, microsecond=0)
    return min(now, noon.astimezone(dt.UTC))


def _cases() -> None:
    agent, supervisor, qa, sales = _user("kefu"), _user("zhuguan"), _user("pinbao"), _user("yewu")
    enabled = set(registry().keys)

    def intake(category: str, **data):
        if category not in enabled:
            return None
        body = {"business_line": "HUACAI", "category": category, "channel": "phone", **data}
        return cases.create_case(agent, body)

    finance = _user("caiwu")

    signers = {p: _user(u) for u, held in POSITIONS.items() for p in held}

    def act(case, *steps):
        for user, action, payload in steps:
            if action == "lines":  # the proposal's compensation, set by the proposer
                compensation.set_compensation(user, case.id, payload)
                continue
            if action == "sign":  # every approval step signed by a holder of its position
                while (step := workflow.pending_step(db.session.get(Case, case.id))) is not None:
                    signer = next(signers[p] for p in step.role.split("|") if p in signers)
                    workflow.run_action(signer, case.id, "approve", payload)
                continue
            if action == "reship":  # the goods sent before the recall: credits fall due
                for line in execution.pending(db.session.get(Case, case.id)):
                    if line.kind in GOODS_KINDS:
                        execution.mark_done(sales, case.id, line.id, payload)
                continue
            if action == "settle":  # every approved line carried out, by the role that does it
                for line in execution.pending(db.session.get(Case, case.id)):
                    doer = sales if line.kind in GOODS_KINDS else finance
                    execution.mark_done(doer, case.id, line.id, payload)
                continue
            if action == "propose" and "cause" in payload:  # a catalogue entry, by its code
                payload = {**payload, "root_cause_category": cause_id(payload.pop("cause"))}
            workflow.run_action(user, case.id, action, payload)

    def cause_id(code: str) -> int:
        line = lines.get_line("HUACAI")
        return db.session.scalar(
            sa.select(RootCause.id).where(
                RootCause.business_line_id == line.id, RootCause.code == code
            )
        )

    def photo(case, kind="photo", name="现场照片.png"):
        evidence.add_evidence(
            agent, case.id, io.BytesIO(PNG), filename=name, kind=kind, source="经销商微信发送"
        )

    def damaged(customer, product, batch_no, qty, days_ago):
        """A logistics case of goods damaged in transit, with a photo and the signed
        delivery note: acceptable as registered."""
        case = intake(
            "logistics",
            customer={"name": customer},
            product=product,
            batch_no=batch_no,
            quantity_purchased=60,
            goods_received_at=_ago(days_ago),
            received_at=_ago(days_ago - 0.1),
            problem_stage="receipt",
            description=f"到货 {qty} 桶严重破损漏液，承运商拒绝赔偿。",
            demand="compensation",
            details={
                "problem": "transit_damage",
                "affected_quantity": qty,
                "carrier": "德邦物流",
                "carrier_negotiation": "failed",
                "damage_severity": "severe",
            },
        )
        if case is not None:
            photo(case)
            photo(case, "delivery_note", "签字送货单.png")
        return case

    damage = intake(
        "logistics",
        customer={"name": "上海华东建材经销部"},
        product="HC-W100",
        batch_no="HC2611-08",
        quantity_purchased=120,
        goods_received_at=_ago(0.2),
        received_at=_ago(0.1),
        problem_stage="receipt",
        description="到货时 6 桶外墙漆桶身凹陷，其中 2 桶渗漏，已在承运商送货单上注明并双方签字。",
        demand="compensation",
        claim_amount="840.00",
        details={
            "problem": "transit_damage",
            "affected_quantity": 6,
            "carrier": "顺丰物流",
            "carrier_negotiation": "pending",
            "damage_severity": "severe",
        },
    )
    if damage is not None:
        photo(damage)
        photo(damage, "delivery_note", "签字送货单.png")
    defect = intake(
        "product_quality",
        customer={"name": "杭州美家装饰连锁"},
        product="HC-I200",
        batch_no="HC2610-21",
        quantity_purchased=300,
        received_at=_ago(3),
        problem_stage="use",
        demand="improvement",
        description="施工后墙面出现颗粒，同批次多个工地反映。",
        claim_amount="6800.00",
        details={
            "problem": "quality_defect",
            "affected_quantity": 40,
            "defect": "particles",
            "remedy": "recall_credit_reship",
        },
    )
    if defect is not None:
        photo(defect)
        act(
            defect,
            (agent, "accept", {}),
            (supervisor, "assign", {"department": "QA", "handler": "pinbao"}),
        )
    returns = intake(
        "policy_returns",
        customer={"name": "上海华东建材经销部"},
        product="HC-W100",
        batch_no="HC2609-30",
        quantity_purchased=40,
        received_at=_ago(5),
        demand="refund",
        description="年底促销政策调整，经销商要求退回 40 桶未开封产品。",
        details={
            "liable_party": "customer",
            "insists_on_return": True,
            "sku": "HC-W100",
            "return_quantity": 40,
            "freight_out": "360.00",
            "freight_back": "420.00",
        },
    )
    if returns is not None:
        act(
            returns,
            (agent, "accept", {}),
            (supervisor, "assign", {"department": "SALES", "handler": "yewu"}),
            (
                sales,
                "propose",
                {
                    "root_cause": "促销政策变更，客户要求退货；客户责任，往返运费由客户承担。",
                    "cause": "policy.promotion_change",
                },
            ),
            # approved: the central warehouse now expects the goods back
            (sales, "submit", {}),
            (None, "sign", {"comment": "同意退货，运费由客户承担"}),
        )
    consumer = intake(
        "terminal_consumer",
        customer={"name": "王女士"},
        product="HC-I200",
        batch_no="HC2609-03",
        quantity_purchased=2,
        received_at=_ago(1),
        channel="regulator",
        demand="refund",
        description="消费者向市场监管部门投诉刷漆后异味过大，要求退款。",
        claim_amount="1360.00",
        details={"amount_paid": "1360.00"},
    )
    if consumer is not None:
        photo(consumer)
        act(consumer, (agent, "accept", {}))
    short = intake(
        "product_quality",
        customer={"name": "杭州美家装饰连锁"},
        product="HC-W100",
        batch_no="HC2608-11",
        goods_received_at=_ago(21),
        received_at=_ago(20),
        description="到货少 3 桶外墙漆。",
        demand="compensation",
        details={"problem": "short_shipment", "affected_quantity": 3},
    )
    if short is not None:
        photo(short)
        act(
            short,
            (agent, "accept", {}),
            (supervisor, "assign", {"department": "WH"}),
            (qa, "propose", {"root_cause": "仓库拣货漏装。", "cause": "storage.picking"}),
            (agent, "submit", {}),
            (supervisor, "approve", {"comment": "同意补发"}),
            (sales, "settle", {"reference": "SO-2611-0088"}),
            (sales, "execute", {}),
            (agent, "confirm", {}),
        )
    # Approved compensation ready for Finance's export (credit-note and reshipment lists);
    # the second case's goods went out before the recall, so its credit is due this month.
    for customer, product, batch_no, qty, price, reship_first in (
        ("杭州美家装饰连锁", "HC-I200", "HC2611-15", 4, "680.00", False),
        ("上海华东建材经销部", "HC-W100", "HC2611-19", 3, "420.00", True),
    ):
        broken = damaged(customer, product, batch_no, qty, days_ago=4)
        if broken is None:
            continue
        steps = [
            (agent, "accept", {}),
            (supervisor, "assign", {"department": "QA", "handler": "pinbao"}),
            (
                qa,
                "propose",
                {
                    "root_cause": "承运商野蛮装卸，外包装不足以承受跌落。",
                    "cause": "transport.handling",
                },
            ),
            (
                qa,
                "lines",
                {
                    "reason": "召回破损桶冲销货款，同时补发同规格产品",
                    "lines": [
                        {
                            "kind": "credit_note",
                            "amount": str(Decimal(price) * qty),
                            "note": "召回破损桶冲销",
                        },
                        {
                            "kind": "reship",
                            "sku": product,
                            "batch_no": batch_no,
                            "quantity": qty,
                            "unit_price": price,
                            "note": "零价补发",
                        },
                    ],
                },
            ),
            (agent, "submit", {}),
            (None, "sign", {"comment": "同意"}),
        ]
        if reship_first:
            steps.append((sales, "reship", {"reference": "SO-2612-0031"}))
        act(broken, *steps)
    # Short-shipped goods under investigation at the warehouse: the responsible department's work.
    missing = intake(
        "product_quality",
        customer={"name": "杭州美家装饰连锁"},
        product="HC-W100",
        batch_no="HC2611-30",
        goods_received_at=_ago(1.2),
        received_at=_ago(1.1),
        description="到货少 2 桶外墙漆，外箱完好。",
        demand="compensation",
        details={"problem": "short_shipment", "affected_quantity": 2},
    )
    if missing is not None:
        photo(missing)
        act(
            missing,
            (agent, "accept", {}),
            (supervisor, "assign", {"department": "WH", "handler": "cangchu"}),
        )
    # Caked powder traced to a damp warehouse: QA's analysis done, the warehouse's corrective
    # action overdue (its head is told by the sweep) and a preventive one under way; the CAPA
    # register and the department's My work have rows.
    caked = intake(
        "product_quality",
        customer={"name": "上海华东建材经销部"},
        product="HC-I200",
        batch_no="HC2610-08",
        quantity_purchased=120,
        received_at=_ago(12),
        problem_stage="storage",
        demand="improvement",
        description="腻子粉结块，开袋后无法正常搅拌。",
        details={
            "problem": "quality_defect",
            "affected_quantity": 12,
            "defect": "caking",
            "remedy": "recall_credit_reship",
        },
    )
    if caked is not None:
        from plugins.product_quality import services as quality  # the plugin's own writes

        photo(caked)
        act(
            caked,
            (agent, "accept", {}),
            (supervisor, "assign", {"department": "WH", "handler": "cangchu"}),
        )
        warehouse = db.session.scalar(sa.select(Department).where(Department.code == "WH"))
        warehouse.head_id = _user("cangchu").id
        records.save(SYSTEM, warehouse, "department")
        quality.record_analysis(
            qa,
            caked.id,
            {"root_cause": "仓库地面返潮，托盘未离地存放。", "responsible_unit": "仓储部"},
        )
        today = dt.datetime.now(dt.UTC).date()
        for kind, text, due in (
            (
                "corrective",
                "全部托盘加高离地 15 厘米，受潮批次隔离。",
                today - dt.timedelta(days=2),
            ),
            ("preventive", "仓库加装除湿机，每日记录温湿度。", today + dt.timedelta(days=10)),
        ):
            quality.add_action(
                _user("cangchu"),
                caked.id,
                {
                    "kind": kind,
                    "description": text,
                    "responsible_unit": "仓储部",
                    "due_date": due.isoformat(),
                },
            )
    # A proposal waiting in the CS supervisor's inbox (待我审批), and a large one past that step,
    # waiting for the regional sales manager: a new user sees an inbox with work in it.
    for customer, qty, price, signed in (
        ("杭州美家装饰连锁", 2, "680.00", False),
        ("上海华东建材经销部", 40, "680.00", True),
    ):
        pending = damaged(customer, "HC-I200", "HC2611-27", qty, days_ago=2)
        if pending is None:
            continue
        if signed:
            photo(pending, "document", "案件报告.png")
        steps = [
            (agent, "accept", {}),
            (supervisor, "assign", {"department": "QA", "handler": "pinbao"}),
            (
                qa,
                "propose",
                {
                    "root_cause": "承运商野蛮装卸，外包装不足以承受跌落。",
                    "cause": "transport.handling",
                },
            ),
            (
                qa,
                "lines",
                {
                    "reason": "破损桶冲销货款",
                    "lines": [
                        {
                            "kind": "credit_note",
                            "amount": str(Decimal(price) * qty),
                            "note": "破损桶冲销",
                        }
                    ],
                },
            ),
            (agent, "submit", {}),
        ]
        if signed:
            steps.append((supervisor, "approve", {"comment": "同意，报区域经理"}))
        act(pending, *steps)
    late = intake(
        "logistics",
        customer={"name": "上海华东建材经销部"},
        product="HC-I200",
        batch_no="HC2610-02",
        goods_received_at=_ago(30),
        received_at=_ago(2),
        description="上月到货的货物今天发现短少 3 桶。",
        demand="compensation",
        details={"problem": "transit_shortage", "affected_quantity": 3},
    )
    if late is not None:
        act(late, (agent, "reject", {"comment": "收货时未当场提出，视为货物完好验收，不予受理。"}))
    waiting = intake(
        "logistics",
        business_line="QINGQUAN",
        customer={"name": "成都天府饮品批发"},
        product="QQ-500",
        received_at=_ago(0.5),
        description="到货延迟 5 天，影响门店销售。",
        demand="apology",
        details={"problem": "delay", "transit_days_normal": 3, "transit_days_actual": 8},
    )
    if waiting is not None:
        act(
            waiting, (agent, "accept", {}), (agent, "hold", {"comment": "等待客户提供延迟订单号。"})
        )
    for n, customer in enumerate(("成都天府饮品批发", "蜀都超市", "成都天府饮品批发")):
        intake(
            "product_quality",
            business_line="QINGQUAN",
            customer={"name": customer},
            product="QQ-TEA",
            batch_no="QQ2611-05",
            received_at=_ago(6 - n),
            quantity_purchased=50,
            description="茶饮料瓶底有沉淀物。",
            demand="exchange",
            details={
                "problem": "quality_defect",
                "affected_quantity": 10 + n,
                "defect": "sediment",
            },
        )


def load_demo() -> list[tuple[str, str, list[str]]]:
    """Create the demo data unless it exists; return ``(username, role, lines)`` of the logins."""
    if db.session.scalar(sa.select(BusinessLine).where(BusinessLine.code == LINES[0][0])) is None:
        _reference_data()
        _cases()
    roles = set(current_app.config["FAB_ROLES"])
    return [(u, role, user_lines) for u, role, user_lines, *_ in USERS if role in roles]
