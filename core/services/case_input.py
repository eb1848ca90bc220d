"""Intake and edit input of a case: the core's fields, the customer, the product, the category
and its plugin fields, validated into a :class:`CaseInput` before anything is written."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core import fields, limits
from core.contracts import FieldSpec
from core.db import utcnow
from core.extensions import db
from core.models import BusinessLine, Case, Customer, Product
from core.services import audit, records
from core.services.access import can
from core.services.case_hooks import plugin_field_specs
from core.services.errors import Forbidden, Invalid
from core.services.lines import line_facts, registry
from core.timeutil import localize
from core.vocab import CHANNELS, CUSTOMER_KINDS, DEMANDS, PROBLEM_STAGES, choices

CORE_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("channel", "choice", _l("Channel"), required=True, choices=choices(CHANNELS)),
    FieldSpec("product", "string", _l("Product (code or name)")),
    FieldSpec("batch_no", "string", _l("Production batch"), max_length=limits.CODE),
    FieldSpec("quantity_purchased", "integer", _l("Quantity purchased"), min_value=0),
    FieldSpec("purchase_date", "date", _l("Purchase date")),
    FieldSpec("goods_received_at", "datetime", _l("Goods received at")),
    FieldSpec("received_at", "datetime", _l("Complaint received at")),
    FieldSpec(
        "problem_stage",
        "choice",
        _l("Stage where the problem arose"),
        choices=choices(PROBLEM_STAGES),
    ),
    FieldSpec("purchasing_unit", "string", _l("Purchasing unit")),
    FieldSpec("description", "text", _l("Problem description"), required=True),
    FieldSpec("demand", "choice", _l("Customer demand"), choices=choices(DEMANDS)),
    FieldSpec("claim_amount", "decimal", _l("Claim amount (CNY)"), min_value=0),
)
CUSTOMER_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("name", "string", _l("Complaining company or person"), required=True),
    FieldSpec("kind", "choice", _l("Customer kind"), choices=choices(CUSTOMER_KINDS)),
    FieldSpec("contact", "string", _l("Contact person"), max_length=limits.CONTACT),
    FieldSpec("phone", "string", _l("Phone"), max_length=limits.PHONE),
    FieldSpec("email", "string", _l("E-mail")),
    FieldSpec("address", "string", _l("Address"), max_length=limits.ADDRESS),
)
TOP_LEVEL = {"business_line", "category", "customer", "customer_id", "details", "version"}
CORE_NAMES = {s.name for s in CORE_FIELDS}
_PHONE = re.compile(rf"^[0-9+()\- ]{{3,{limits.PHONE}}}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def customer_dict(customer: Customer | None) -> dict[str, Any]:
    if customer is None:
        return {}
    return {
        "id": customer.id,
        "name": customer.name,
        "kind": customer.kind,
        "contact": customer.contact,
        "phone": customer.phone,
        "email": customer.email,
        "address": customer.address,
    }


@dataclass
class CaseInput:
    errors: dict[str, list[str]]

    def add(self, field: str, message: Any) -> None:
        self.errors.setdefault(field, []).append(str(message))


def start_input(data: Any) -> tuple[Mapping[str, Any], CaseInput]:
    """The body as a mapping, with its unknown top-level keys already reported."""
    if not isinstance(data, Mapping):
        raise Invalid(_l("The body must be a JSON object."), field="body")
    out = CaseInput({})
    for key in data:
        if key not in TOP_LEVEL and key not in CORE_NAMES:
            out.add(key, _l("Unknown field."))
    return data, out


def check_contact(clean: dict[str, Any], out: CaseInput, prefix: str) -> None:
    if clean.get("phone") and not _PHONE.match(clean["phone"]):
        out.add(f"{prefix}phone", _l("Not a valid phone number."))
    if clean.get("email") and not _EMAIL.match(clean["email"]):
        out.add(f"{prefix}email", _l("Not a valid e-mail address."))


def resolve_customer(actor, line: BusinessLine, data: Mapping[str, Any], out: CaseInput):
    """Find or create the customer in the line; returns a pending callable or the customer."""
    if "customer" in data and "customer_id" in data:
        out.add("customer", _l("Give either customer or customer_id, not both."))
        return None
    if "customer_id" in data:
        cid = data["customer_id"]
        customer = None
        if isinstance(cid, int) and not isinstance(cid, bool):
            customer = db.session.get(Customer, cid)
        if customer is None or customer.business_line_id != line.id:
            out.add("customer_id", _l("Unknown customer."))
            return None
        return customer
    raw = data.get("customer")
    if not isinstance(raw, Mapping):
        out.add(
            "customer", _l("This field is required.") if raw is None else _l("Must be an object.")
        )
        return None
    clean, errors = fields.validate(CUSTOMER_FIELDS, raw, prefix="customer.")
    for key, messages in errors.items():
        for m in messages:
            out.add(key, m)
    check_contact(clean, out, "customer.")
    if errors or out.errors.get("customer.phone") or out.errors.get("customer.email"):
        return None
    return clean


def save_customer(actor, line: BusinessLine, clean: dict[str, Any]) -> Customer:
    customer = db.session.scalar(
        sa.select(Customer)
        .where(Customer.business_line_id == line.id, Customer.name == clean["name"])
        .options(sa.orm.lazyload(Customer.business_line))  # the line is loaded: ``line``
    )
    if customer is None:
        customer = Customer(business_line_id=line.id, kind=clean.get("kind") or "dealer")
        for key in ("name", "contact", "phone", "email", "address"):
            setattr(customer, key, clean.get(key))
        db.session.add(customer)
        db.session.flush()
        audit.record(
            actor,
            "create",
            entity="customer",
            entity_id=customer.id,
            changes=audit.diff({}, customer_dict(customer)),
        )
        return customer
    changed = [
        key
        for key in ("kind", "contact", "phone", "email", "address")
        if clean.get(key) is not None and clean[key] != getattr(customer, key)
    ]
    if changed and not can(actor, "can_edit", "Customer"):  # Sales registers, never edits
        raise Forbidden(
            _l("Your role may not change an existing customer's details."),
            field=f"customer.{changed[0]}",
        )
    before = customer_dict(customer)
    for key in changed:
        setattr(customer, key, clean[key])
    changes = audit.diff(before, customer_dict(customer))
    if changes:
        db.session.flush()
        audit.record(actor, "update", entity="customer", entity_id=customer.id, changes=changes)
        if "kind" in changes:  # a key account is P2: the customer's other open cases too
            records.refresh_customer_cases(actor, customer.id)
    return customer


def resolve_product(line: BusinessLine, ref: str | None, out: CaseInput) -> Product | None:
    if ref is None:
        return None
    base = (
        sa.select(Product)
        .where(Product.business_line_id == line.id)
        .options(sa.orm.lazyload(Product.business_line))  # the line is loaded: ``line``
    )
    product = db.session.scalar(base.where(Product.code == ref))
    if product is not None:
        return product
    matches = list(db.session.scalars(base.where(Product.name == ref).limit(2)))
    if len(matches) == 1:
        return matches[0]
    out.add(
        "product",
        _l("Unknown product.")
        if not matches
        else _l("Several products have this name; give the code."),
    )
    return None


def check_category(line: BusinessLine, category: Any, out: CaseInput) -> None:
    if not isinstance(category, str) or not category:
        out.add("category", _l("This field is required."))
    elif not registry().is_category(category):
        out.add("category", _l("Unknown category."))
    elif category not in line.enabled_plugin_keys:
        out.add("category", _l("This category is not enabled on the business line."))


def core_values(data: Mapping[str, Any], out: CaseInput, *, require: bool) -> dict[str, Any]:
    present = {k: v for k, v in data.items() if k in CORE_NAMES}
    clean, errors = fields.validate(CORE_FIELDS, present, require=require)
    for key, messages in errors.items():
        for m in messages:
            out.add(key, m)
    return clean


def validate_details(line: BusinessLine, category: str, raw: Any, out: CaseInput) -> dict[str, Any]:
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        out.add("details", _l("Must be an object."))
        return {}
    specs = plugin_field_specs(line_facts(line), category)
    clean, errors = fields.validate(specs, raw, prefix="details.")
    for key, messages in errors.items():
        for m in messages:
            out.add(key, m)
    for key, value in clean.items():
        if isinstance(value, dt.datetime):
            clean[key] = localize(value, line.timezone)
    return {k: fields.to_json(v) for k, v in clean.items() if v is not None}


FUTURE_TOLERANCE = dt.timedelta(minutes=5)  # clocks of phones and PCs drift


def apply_core(case: Case, line: BusinessLine, clean: dict[str, Any], out: CaseInput) -> None:
    """Set validated intake values on the case; times without offset are the line's local time."""
    if "product" in clean:
        case.product = resolve_product(line, clean["product"], out)
    for key in ("goods_received_at", "received_at"):
        if key in clean:
            value = clean[key]
            if value is not None:
                value = localize(value, line.timezone)
                if value > utcnow() + FUTURE_TOLERANCE:
                    out.add(key, _l("Cannot be in the future."))
            setattr(case, key, value)
    for key, value in clean.items():
        if key not in ("product", "goods_received_at", "received_at"):
            setattr(case, key, value)
    if case.received_at is None:
        if case.id is None:
            case.received_at = utcnow()  # registered as it comes in
        else:
            out.add("received_at", _l("This field is required."))
