"""The intake form's helpers: registration fields, pickers, a new customer, the live draft check.

Everything here reads under the record rule (only the actor's business lines); the one write,
creating a customer, runs in a write transaction with its audit event. The draft check runs
the category's acceptance rules on the values typed so far without writing anything.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core import fields, limits
from core.contracts import REGISTRATION, CaseFacts, FieldSpec
from core.db import utcnow, write_transaction
from core.extensions import db
from core.i18n import translated_issues
from core.models import BusinessLine, Case, Customer, Product
from core.roles import CAN_CREATE
from core.services import case_hooks, case_input
from core.services import cases as case_service
from core.services.access import can_view_contact, line_for_write, require
from core.services.errors import Conflict, Invalid, invalid_if
from core.services.lines import line_facts
from core.services.present import customer_json
from core.timeutil import localize
from core.workflow import FINAL

SEARCH_LIMIT = 10
QUERY_MAX = limits.TEXT_SHORT


def registration_specs(specs: Iterable[FieldSpec]) -> list[FieldSpec]:
    """The fields asked at registration (the intake form); later stages' fields are left out."""
    return [spec for spec in specs if spec.stage == REGISTRATION]


def category_specs(line: BusinessLine, category: str) -> list[FieldSpec]:
    """The registration fields of ``category`` on ``line``."""
    return registration_specs(case_service.plugin_field_specs(line_facts(line), category))


def _line(actor, code: Any) -> BusinessLine:
    """The line the intake works in: the actor must be allowed to register there."""
    require(actor, CAN_CREATE)
    if not isinstance(code, str) or not code:
        raise Invalid(_l("This field is required."), field="business_line")
    return line_for_write(actor, code)


def _query(q: Any) -> str:
    if q is None:
        return ""
    if not isinstance(q, str) or len(q) > QUERY_MAX:
        raise Invalid(str(_l("Must be at most %(n)s characters.", n=QUERY_MAX)), field="q")
    return q.strip()


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_customers(actor, line_code: Any, q: Any) -> list[dict[str, Any]]:
    """Customers of the line whose name, contact or phone contains ``q`` (contact masked
    for roles without "view contact")."""
    line = _line(actor, line_code)
    text = _query(q)
    stmt = sa.select(Customer).where(Customer.business_line_id == line.id)
    if text:
        pattern = _like(text)
        stmt = stmt.where(
            sa.or_(
                Customer.name.ilike(pattern, escape="\\"),
                Customer.contact.ilike(pattern, escape="\\"),
                Customer.phone.ilike(pattern, escape="\\"),
            )
        )
    found = db.session.scalars(stmt.order_by(Customer.name).limit(SEARCH_LIMIT))
    unmasked = can_view_contact(actor)
    return [customer_json(c, unmasked) for c in found]


def search_products(actor, line_code: Any, q: Any) -> list[dict[str, Any]]:
    """Products of the line whose code or name contains ``q``."""
    line = _line(actor, line_code)
    text = _query(q)
    stmt = sa.select(Product).where(Product.business_line_id == line.id)
    if text:
        pattern = _like(text)
        stmt = stmt.where(
            sa.or_(
                Product.code.ilike(pattern, escape="\\"), Product.name.ilike(pattern, escape="\\")
            )
        )
    found = db.session.scalars(stmt.order_by(Product.code).limit(SEARCH_LIMIT))
    return [{"id": p.id, "code": p.code, "name": p.name} for p in found]


def _customer_in(line: BusinessLine, customer_id: Any) -> Customer | None:
    if customer_id in (None, ""):
        return None
    try:
        pk = int(customer_id)
    except (TypeError, ValueError):
        raise Invalid(_l("Unknown customer."), field="customer_id") from None
    customer = db.session.get(Customer, pk) if 0 < pk < 2**31 else None
    if customer is None or customer.business_line_id != line.id:
        raise Invalid(_l("Unknown customer."), field="customer_id")
    return customer


def batch_suggestions(actor, line_code: Any, customer_id: Any) -> list[str]:
    """The production batches of the customer's earlier cases, newest first."""
    line = _line(actor, line_code)
    customer = _customer_in(line, customer_id)
    if customer is None:
        return []
    rows = db.session.execute(
        sa.select(Case.batch_no, sa.func.max(Case.id))
        .where(Case.customer_id == customer.id, Case.batch_no.is_not(None))
        .group_by(Case.batch_no)
        .order_by(sa.func.max(Case.id).desc())
        .limit(SEARCH_LIMIT)
    )
    return [batch for batch, _ in rows]


def create_customer(actor, line_code: Any, data: Any) -> dict[str, Any]:
    """Create a customer in the line from the intake form (name required; a name already
    on the line is a 409 so the agent picks the existing customer instead)."""
    if not isinstance(data, Mapping):
        raise Invalid(_l("The body must be a JSON object."), field="body")
    line = _line(actor, line_code)
    clean, errors = fields.validate(case_service.CUSTOMER_FIELDS, data, prefix="customer.")
    out = case_input.CaseInput(errors)
    case_input.check_contact(clean, out, "customer.")
    invalid_if(out.errors)
    with write_transaction():
        exists = db.session.scalar(
            sa.select(Customer.id).where(
                Customer.business_line_id == line.id, Customer.name == clean["name"]
            )
        )
        if exists is not None:
            raise Conflict(
                _l("A customer with this name already exists; pick it from the list."),
                field="customer.name",
            )
        customer = case_input.save_customer(actor, line, clean)
    return customer_json(customer, can_view_contact(actor))


# -- the live check ------------------------------------------------------------------------------


def _lenient(specs: Iterable[FieldSpec], raw: Mapping[str, Any]) -> dict[str, Any]:
    """The values that are valid so far; a field still wrong is treated as not given."""
    by_name = {s.name: s for s in specs}
    out: dict[str, Any] = {}
    for name, value in raw.items():
        spec = by_name.get(name)
        if spec is None:
            continue
        try:
            out[name] = fields.coerce(spec, value)
        except fields.FieldError:
            continue
    return out


def _moment(value: Any, tz: str) -> dt.datetime | None:
    return localize(value, tz) if isinstance(value, dt.datetime) else None


def _product(line: BusinessLine, ref: Any) -> dict[str, Any]:
    if not isinstance(ref, str) or not ref.strip():
        return {}
    base = sa.select(Product).where(Product.business_line_id == line.id)
    product = db.session.scalar(base.where(Product.code == ref.strip()))
    if product is None:
        product = db.session.scalar(base.where(Product.name == ref.strip()).limit(1))
    if product is None:
        return {}
    return {
        "id": product.id,
        "code": product.code,
        "name": product.name,
        "unit_price": product.unit_price,
    }


def _customer_id(line: BusinessLine, data: Mapping[str, Any]) -> int | None:
    """The existing customer the draft names: by id, or by the exact name typed."""
    try:
        customer = _customer_in(line, data.get("customer_id"))
    except Invalid:
        customer = None
    if customer is not None:
        return customer.id
    name = data.get("customer_name")
    if isinstance(name, str) and name.strip():
        return db.session.scalar(
            sa.select(Customer.id).where(
                Customer.business_line_id == line.id, Customer.name == name.strip()
            )
        )
    return None


def open_duplicates(line: BusinessLine, customer_id: int | None, batch: Any) -> list[Case]:
    """Open cases of the same customer and production batch on the line."""
    if customer_id is None or not isinstance(batch, str) or not batch.strip():
        return []
    return list(
        db.session.scalars(
            sa.select(Case)
            .where(
                Case.business_line_id == line.id,
                Case.customer_id == customer_id,
                Case.batch_no == batch.strip(),
                Case.status.not_in(FINAL),
            )
            .order_by(Case.id.desc())
            .limit(SEARCH_LIMIT)
        )
    )


def draft_check(actor, data: Any) -> dict[str, Any]:
    """The acceptance issues of the draft registration and the open cases it may duplicate.

    ``data`` holds ``business_line``, ``category``, the core fields by name, ``details`` (the
    category's fields), ``customer_id`` or ``customer_name`` and ``evidence`` (the kinds of the
    files attached so far). Nothing is written.
    """
    if not isinstance(data, Mapping):
        raise Invalid(_l("The body must be a JSON object."), field="body")
    line = _line(actor, data.get("business_line"))
    category = data.get("category")
    if not isinstance(category, str) or category not in line.enabled_plugin_keys:
        raise Invalid(_l("This category is not enabled on the business line."), field="category")
    facts_line = line_facts(line)
    core = _lenient(case_service.CORE_FIELDS, data)
    raw_details = data.get("details") if isinstance(data.get("details"), Mapping) else {}
    details = _lenient(category_specs(line, category), raw_details)
    kinds = data.get("evidence") if isinstance(data.get("evidence"), list) else []
    facts = CaseFacts(
        id=None,
        number=None,
        line=facts_line,
        category=category,
        channel=core.get("channel"),
        status="new",
        priority=None,
        customer={},
        product=_product(line, data.get("product")),
        batch_no=core.get("batch_no"),
        quantity_purchased=core.get("quantity_purchased"),
        purchase_date=core.get("purchase_date"),
        goods_received_at=_moment(core.get("goods_received_at"), line.timezone),
        received_at=_moment(core.get("received_at"), line.timezone) or utcnow(),
        description=core.get("description") or "",
        demand=core.get("demand"),
        claim_amount=core.get("claim_amount"),
        details={k: v for k, v in details.items() if v is not None},
        evidence_kinds=frozenset(k for k in kinds if isinstance(k, str)),
    )
    with db.session.no_autoflush:
        issues = case_hooks.flatten(
            case_service.case_caller("kesu_acceptance_issues", facts_line, category)(case=facts)
        )
        duplicates = open_duplicates(line, _customer_id(line, data), core.get("batch_no"))
    return {
        "issues": translated_issues([i.as_dict() for i in issues]),
        "duplicates": [{"id": c.id, "number": c.number, "status": c.status} for c in duplicates],
    }
