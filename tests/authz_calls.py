"""The records and request bodies of the authorization matrix (tests/test_authz_matrix.py).

World holds an own-line (L1) and an other-line (L2) record of each kind a route's URL names;
BODIES builds each call's body for a line; PREPARE and VARIANT_ARGS set up the variants that
reach into another line.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from core.extensions import db
from tests.conftest import case_body

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _now() -> str:
    import datetime as dt

    return dt.datetime.now(dt.UTC).isoformat()


# -- the records a call is made on -------------------------------------------------------------


class World:
    """Records of L1 (every test user's line) and L2 (no test user's but Admin's)."""

    def __init__(self, app, needs: set[str] = frozenset({"case", "evidence", "incident"})):
        from core.models import (
            BusinessLine,
            Customer,
            Department,
            KesuUser,
            LinePosition,
            Product,
            RootCause,
        )

        self.app = app
        with app.app_context():

            def one(stmt):
                return db.session.scalar(stmt.limit(1))

            self.line = {
                code: one(sa.select(BusinessLine.id).where(BusinessLine.code == code))
                for code in ("L1", "L2")
            }
            self.values: dict[str, dict[str, Any]] = {}
            for code, line_id in self.line.items():
                self.values[code] = {
                    "line": line_id,
                    "line_code": code,
                    "customer": one(
                        sa.select(Customer.id).where(Customer.business_line_id == line_id)
                    ),
                    "customer_name": one(
                        sa.select(Customer.name).where(Customer.business_line_id == line_id)
                    ),
                    "product": one(
                        sa.select(Product.id).where(Product.business_line_id == line_id)
                    ),
                    "product_code": one(
                        sa.select(Product.code).where(Product.business_line_id == line_id)
                    ),
                    "position": one(
                        sa.select(LinePosition.id).where(LinePosition.business_line_id == line_id)
                    ),
                    "user": one(
                        sa.select(KesuUser.id).where(
                            KesuUser.username == ("agent" if code == "L1" else "agent2")
                        )
                    ),
                    "handler": "agent" if code == "L1" else "agent2",
                    "department": one(sa.select(Department.id)),
                    "root_cause": one(
                        sa.select(RootCause.id).where(RootCause.business_line_id == line_id)
                    ),
                    "missing": 999_999,
                }
            from plugins.major_incident.models import Incident

            for code in ("L1", "L2") if "incident" in needs else ():
                incident = Incident(business_line_id=self.line[code], batch_no="B-MATRIX")
                db.session.add(incident)
                db.session.commit()
                self.values[code]["incident"] = incident.id
            for code in ("L1", "L2") if needs & {"case", "evidence"} else ():
                case_id = self.new_case(code, "logistics")
                self.values[code]["case"] = case_id
                self.values[code]["evidence"] = self.add_evidence(case_id)

    def pooled_case(self, code: str, category: str) -> int:
        """A case in its first state: reused until a call changes it (see ``discard``)."""
        pool = self.__dict__.setdefault("_pool", {})
        if (code, category) not in pool:
            pool[code, category] = self.new_case(code, category)
        return pool[code, category]

    def discard(self, case_id: int) -> None:
        pool = self.__dict__.setdefault("_pool", {})
        for key, value in list(pool.items()):
            if value == case_id:
                del pool[key]

    def pooled_line(self, code: str, kind: str) -> tuple[int, int]:
        """A case at execution with one approved, pending line (``money_line``: a credit
        note; ``goods_line``: a reshipment): ``(case id, line id)``, reused like a case."""
        from core.db import utcnow
        from core.models import Case, CompensationLine

        lines = self.__dict__.setdefault("_lines", {})
        pool = self.__dict__.setdefault("_pool", {})
        if (code, kind) not in pool:
            case_id = self.new_case(code)
            with self.app.app_context():
                case = db.session.get(Case, case_id)
                goods = kind == "goods_line"
                line = CompensationLine(
                    position=1,
                    kind="reship" if goods else "credit_note",
                    quantity=2 if goods else None,
                    unit_price=Decimal("5.00") if goods else None,
                    amount=Decimal("10.00"),
                    approved_at=utcnow(),
                )
                case.compensation.append(line)
                case.status = "executing"
                db.session.commit()
                lines[case_id] = line.id
            pool[code, kind] = case_id
        return pool[code, kind], lines[pool[code, kind]]

    def pooled_capa(self, code: str) -> tuple[int, int]:
        """A product-quality case with one open corrective action: ``(case id, action id)``,
        reused like a case."""
        import datetime as dt

        from plugins.product_quality.models import CapaAction

        actions = self.__dict__.setdefault("_capa", {})
        pool = self.__dict__.setdefault("_pool", {})
        if (code, "capa") not in pool:
            case_id = self.new_case(code, "product_quality")
            with self.app.app_context():
                action = CapaAction(
                    case_id=case_id,
                    kind="corrective",
                    description="换筛网",
                    responsible_unit="生产部",
                    due_date=dt.date(2026, 12, 31),
                    created_by="qa",
                )
                db.session.add(action)
                db.session.commit()
                actions[case_id] = action.id
            pool[code, "capa"] = case_id
        return pool[code, "capa"], actions[pool[code, "capa"]]

    def pooled_closed(self, code: str, kind: str) -> tuple[int, int | None]:
        """A closed case (``closed_case``), or one whose visit scored 1 waits for the
        supervisor (``pending_visit``): ``(case id, visit id or None)``, reused like a case."""
        import datetime as dt

        from core.db import utcnow
        from core.models import Case, CaseVisit

        visits = self.__dict__.setdefault("_visits", {})
        pool = self.__dict__.setdefault("_pool", {})
        if (code, kind) not in pool:
            case_id = self.new_case(code)
            with self.app.app_context():
                case = db.session.get(Case, case_id)
                closed = utcnow() - dt.timedelta(hours=1)
                case.status = "closed"
                case.stage_times = {**case.stage_times, "closed": closed.isoformat()}
                if kind == "pending_visit":
                    case.visits.append(
                        CaseVisit(
                            visited_at=closed,
                            channel="phone",
                            satisfaction=1,
                            followup="pending",
                        )
                    )
                db.session.commit()
                visits[case_id] = case.visits[0].id if case.visits else None
            pool[code, kind] = case_id
        return pool[code, kind], visits[pool[code, kind]]

    def approved_line(self, code: str, kind: str = "credit_note") -> int:
        """A new case with one approved, pending line of ``kind``, eligible for export: its id."""
        from core.db import utcnow
        from core.models import Case, CompensationLine

        case_id = self.new_case(code)
        with self.app.app_context():
            case = db.session.get(Case, case_id)
            line = CompensationLine(
                position=1, kind=kind, amount=Decimal("10.00"), approved_at=utcnow()
            )
            case.compensation.append(line)
            case.status = "executing"
            db.session.commit()
            return line.id

    def batch(self, code: str, fresh: bool = False) -> int:
        """An export batch of the line (``fresh``: a new one, not void, for each call)."""
        from core.services import finance
        from core.services.access import SYSTEM

        batches = self.__dict__.setdefault("_batches", {})
        if fresh or code not in batches:
            self.approved_line(code)
            with self.app.app_context():
                body = {"kind": "credit_notes", "business_line": code}
                batches[code] = finance.export(SYSTEM, body).id
        return batches[code]

    def seq(self) -> int:
        self._seq = getattr(self, "_seq", 0) + 1
        return self._seq

    def new_case(self, code: str, category: str = "logistics") -> int:
        from core.services import cases
        from core.services.access import SYSTEM

        # A batch of its own: cases sharing one would form a batch outbreak (major incident).
        body = {**self.case_json(code), "batch_no": f"B-M{self.seq()}"}
        if category == "product_quality" and code == "L1":
            body.update(category=category, details={"problem": "short_shipment"})
        elif category == "policy_returns" and code == "L1":
            body.update(
                category=category,
                details={"sku": "P-100", "return_quantity": 10, "freight_out": "1.00"},
            )
        with self.app.app_context():
            return cases.create_case(SYSTEM, body).id

    def add_evidence(self, case_id: int) -> int:
        from core.services import evidence
        from core.services.access import SYSTEM

        with self.app.app_context():
            return evidence.add_evidence(
                SYSTEM, case_id, io.BytesIO(PNG), filename="p.png", kind="photo"
            ).id

    def case_json(self, code: str) -> dict[str, Any]:
        v = self.values[code]
        return case_body(
            business_line=code, customer={"name": v["customer_name"]}, product=v["product_code"]
        )

    def case_version(self, case_id: int) -> int:
        from core.models import Case

        with self.app.app_context():
            return db.session.get(Case, case_id).version

    def fingerprint(self) -> tuple:
        """What any write changes: the audit trail, and rows no audit event covers."""
        from core.models import AuditEvent, Case, Customer, Product

        with self.app.app_context():
            db.session.expire_all()
            return tuple(
                db.session.scalar(stmt)
                for stmt in (
                    sa.select(sa.func.count()).select_from(AuditEvent),
                    sa.select(sa.func.max(AuditEvent.id)),
                    sa.select(sa.func.count()).select_from(Case),
                    sa.select(sa.func.count()).select_from(Customer),
                    sa.select(sa.func.count()).select_from(Product),
                )
            )


# -- bodies -------------------------------------------------------------------------------------
# A builder gets (world, line code, case id or None) and returns ("json"|"form"|"query", data).

Body = Callable[[World, str, Any], tuple[str, Any]]


def _customer_edit(world: World, target: str, name: str = "上海经销商") -> dict[str, Any]:
    return {"business_line": str(world.line[target]), "name": name, "kind": "dealer"}


BODIES: dict[str, Body] = {
    "empty": lambda w, code, case: ("form", {}),
    "root_cause_add": lambda w, code, case: ("form", {"name": f"新原因 {w.seq()}"}),
    "bad_login": lambda w, code, case: ("form", {"username": "nobody", "password": "x"}),
    "bad_login_json": lambda w, code, case: (
        "json",
        {"username": "nobody", "password": "x", "provider": "db"},
    ),
    "userinfo": lambda w, code, case: ("form", {"first_name": "", "last_name": ""}),
    "fields_query": lambda w, code, case: (
        "query",
        {"business_line": code, "category": "logistics"},
    ),
    # cases
    "case_json": lambda w, code, case: ("json", w.case_json(code)),
    "case_json_l2": lambda w, code, case: ("json", w.case_json("L2")),
    "case_json_customer_l2": lambda w, code, case: (
        "json",
        {
            **{k: v for k, v in w.case_json(code).items() if k != "customer"},
            "customer_id": w.values["L2"]["customer"],
        },
    ),
    "case_json_product_l2": lambda w, code, case: (
        "json",
        {**w.case_json(code), "product": w.values["L2"]["product_code"]},
    ),
    "edit_json": lambda w, code, case: (
        "json",
        {"batch_no": f"B-E{w.seq()}", "version": w.case_version(case)},
    ),
    "edit_json_move_l2": lambda w, code, case: (
        "json",
        {
            "business_line": "L2",
            "customer": {"name": w.values["L2"]["customer_name"]},
            "product": w.values["L2"]["product_code"],
            "version": w.case_version(case),
        },
    ),
    "edit_json_customer_l2": lambda w, code, case: (
        "json",
        {"customer_id": w.values["L2"]["customer"], "version": w.case_version(case)},
    ),
    "edit_json_product_l2": lambda w, code, case: (
        "json",
        {"product": w.values["L2"]["product_code"], "version": w.case_version(case)},
    ),
    "hold_json": lambda w, code, case: ("json", {"comment": "等客户回复"}),
    "assign_json_handler_l2": lambda w, code, case: (
        "json",
        {"department": "QA", "handler": "agent2"},
    ),
    "compensation_json": lambda w, code, case: (
        "json",
        {"lines": [{"kind": "cash", "amount": "10.00"}], "reason": "x"},
    ),
    "priority_json": lambda w, code, case: ("json", {"priority": "P1", "reason": "客户升级"}),
    "upload": lambda w, code, case: (
        "multipart",
        {"file": (io.BytesIO(PNG), "photo.png"), "kind": "photo"},
    ),
    "intake_form": lambda w, code, case: (
        "form",
        {
            "submit_case": "1",
            "business_line": code,
            "category": "logistics",
            "customer__name": w.values[code]["customer_name"],
            "customer__kind": "dealer",
            "channel": "phone",
            "description": "到货破损",
            "demand": "compensation",
            "details__problem": "delay",
        },
    ),
    "intake_form_l2": lambda w, code, case: BODIES["intake_form"](w, "L2", case),
    "intake_form_product_l2": lambda w, code, case: (
        "form",
        {**BODIES["intake_form"](w, code, case)[1], "product": w.values["L2"]["product_code"]},
    ),
    "intake_search": lambda w, code, case: ("query", {"business_line": code, "q": "经销"}),
    "intake_search_l2": lambda w, code, case: ("query", {"business_line": "L2", "q": "经销"}),
    "intake_customer": lambda w, code, case: (
        "json",
        {"business_line": code, "name": f"新客户{w.seq()}", "phone": "13700001111"},
    ),
    "intake_customer_l2": lambda w, code, case: (
        "json",
        {"business_line": "L2", "name": f"新客户{w.seq()}"},
    ),
    "intake_batches": lambda w, code, case: (
        "query",
        {"business_line": code, "customer_id": w.values[code]["customer"]},
    ),
    "intake_batches_l2": lambda w, code, case: (
        "query",
        {"business_line": "L2", "customer_id": w.values["L2"]["customer"]},
    ),
    "intake_check": lambda w, code, case: (
        "json",
        {
            "business_line": code,
            "category": "logistics",
            "customer_id": w.values[code]["customer"],
            "batch_no": "B20261101",
            "details": {"problem": "damage_in_transit"},
        },
    ),
    "intake_check_l2": lambda w, code, case: (
        "json",
        {"business_line": "L2", "category": "logistics", "details": {"problem": "delay"}},
    ),
    "edit_form": lambda w, code, case: (
        "form",
        {
            "version": str(w.case_version(case)),
            "customer_id": str(w.values[code]["customer"]),
            "channel": "phone",
            "description": "改描述",
            "batch_no": f"B-E{w.seq()}",
            "details__problem": "delay",
        },
    ),
    "edit_form_customer_l2": lambda w, code, case: (
        "form",
        {**BODIES["edit_form"](w, code, case)[1], "customer_id": str(w.values["L2"]["customer"])},
    ),
    "edit_form_product_l2": lambda w, code, case: (
        "form",
        {**BODIES["edit_form"](w, code, case)[1], "product": w.values["L2"]["product_code"]},
    ),
    "hold_form": lambda w, code, case: ("form", {"comment": "等客户回复"}),
    "assign_form_handler_l2": lambda w, code, case: (
        "form",
        {"department": "QA", "handler": "agent2"},
    ),
    "compensation_form": lambda w, code, case: (
        "form",
        {"kind-0": "cash", "amount-0": "10.00", "reason": "x"},
    ),
    "priority_form": lambda w, code, case: ("form", {"priority": "P1", "reason": "客户升级"}),
    "save_filter_form": lambda w, code, case: ("form", {"name": "矩阵筛选", "mine": "1"}),
    "bulk_assign_form": lambda w, code, case: _bulk_assign(w, code),
    "bulk_assign_form_l2": lambda w, code, case: _bulk_assign(w, "L2"),
    # plugins
    "analysis_form": lambda w, code, case: (
        "form",
        {"root_cause": "筛网破损", "responsible_unit": "生产部"},
    ),
    "analysis_json": lambda w, code, case: (
        "json",
        {"root_cause": "筛网破损", "responsible_unit": "生产部"},
    ),
    "capa_form": lambda w, code, case: (
        "form",
        {"kind": "corrective", "description": "换筛网", "responsible_unit": "生产部"},
    ),
    "capa_json": lambda w, code, case: (
        "json",
        {"kind": "corrective", "description": "换筛网", "responsible_unit": "生产部"},
    ),
    "capa_done_form": lambda w, code, case: ("form", {"note": "已更换筛网"}),
    "capa_done_json": lambda w, code, case: ("json", {"note": "已更换筛网"}),
    "receipt_form": lambda w, code, case: (
        "form",
        {"sku": "P-100", "batch_no": "B1", "quantity": "1"},
    ),
    "receipt_json": lambda w, code, case: (
        "json",
        {"sku": "P-100", "batch_no": "B1", "quantity": 1},
    ),
    # carrying out compensation
    "done_json": lambda w, code, case: ("json", {"reference": f"ERP-{w.seq()}"}),
    "cancel_json": lambda w, code, case: ("json", {"reason": "客户改为下月一并处理"}),
    # return visits
    "visit_json": lambda w, code, case: (
        "json",
        {"visited_at": _now(), "channel": "phone", "satisfaction": 4, "comment": "满意"},
    ),
    "visit_form": lambda w, code, case: (
        "form",
        {"visited_at": _now(), "channel": "wechat", "satisfaction": "4", "comment": "满意"},
    ),
    "dismiss_json": lambda w, code, case: ("json", {"reason": "客户已接受处理结果"}),
    "dismiss_form": lambda w, code, case: ("form", {"reason": "客户已接受处理结果"}),
    # finance export batches (an export needs an eligible line: each call gets a new one)
    "finance_pending": lambda w, code, case: (
        "query",
        {"kind": "credit_notes", "business_line": code},
    ),
    "finance_pending_l2": lambda w, code, case: (
        "query",
        {"kind": "credit_notes", "business_line": "L2"},
    ),
    "finance_export": lambda w, code, case: (
        w.approved_line(code) and "json",
        {"kind": "credit_notes", "business_line": code},
    ),
    "finance_export_l2": lambda w, code, case: (
        w.approved_line("L2") and "json",
        {"kind": "credit_notes", "business_line": "L2"},
    ),
    "void_json": lambda w, code, case: ("json", {"reason": "金额有误，重新导出"}),
    # finance screens (forms)
    "done_form": lambda w, code, case: ("form", {"reference": f"ERP-{w.seq()}"}),
    "cancel_form": lambda w, code, case: ("form", {"reason": "客户改为下月一并处理"}),
    "export_form": lambda w, code, case: (
        w.approved_line(code) and "form",
        {"kind": "credit_notes", "business_line": code},
    ),
    "export_form_l2": lambda w, code, case: (
        w.approved_line("L2") and "form",
        {"kind": "credit_notes", "business_line": "L2"},
    ),
    "void_form": lambda w, code, case: ("form", {"reason": "金额有误，重新导出"}),
    # reference data
    "customer_add": lambda w, code, case: (
        "form",
        _customer_edit(w, code, name=f"矩阵客户{w.seq()}"),
    ),
    "customer_edit": lambda w, code, case: (
        "form",
        {**_customer_edit(w, code, w.values[code]["customer_name"]), "contact": f"矩阵{w.seq()}"},
    ),
    "customer_add_l2": lambda w, code, case: ("form", _customer_edit(w, "L2", name="越界客户")),
    "customer_edit_move_l2": lambda w, code, case: (
        "form",
        _customer_edit(w, "L2", w.values[code]["customer_name"]),
    ),
    "product_add": lambda w, code, case: (
        "form",
        {"business_line": str(w.line[code]), "code": f"M-{w.seq()}", "name": "矩阵产品"},
    ),
    "product_edit": lambda w, code, case: (
        "form",
        {
            "business_line": str(w.line[code]),
            "code": w.values[code]["product_code"],
            "name": f"矩阵改名{w.seq()}",
        },
    ),
}


def _bulk_assign(world: World, code: str) -> tuple[str, Any]:
    """A fresh accepted case of ``code`` for the case list's bulk assignment, to L1's QA."""
    from core.models import KesuUser

    case_id = world.new_case(code)
    _accepted(world, case_id)
    with world.app.app_context():
        qa = db.session.scalar(sa.select(KesuUser.id).where(KesuUser.username == "qa"))
    return "form", {"case": [str(case_id)], "to_handler": str(qa)}


def _accepted(world: World, case_id: int) -> None:
    from core.services import workflow
    from core.services.access import SYSTEM

    with world.app.app_context():
        workflow.run_action(SYSTEM, case_id, "accept", {})


# Variants that need the case in another state first (assigning needs an accepted case).
PREPARE: dict[str, Callable[[World, int], None]] = {
    "assign_form_handler_l2": _accepted,
    "assign_json_handler_l2": _accepted,
}


# Variants that call the route with other URL arguments.
VARIANT_ARGS: dict[str, dict[str, str]] = {
    "assign_form_handler_l2": {"name": "assign"},
    "assign_json_handler_l2": {"name": "assign"},
}
