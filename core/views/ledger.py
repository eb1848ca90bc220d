"""The ledger screen (台帐): filters, a page of cases at a time, the Excel export."""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import get_locale

from core.api.ledger import ledger_file_response
from core.deadlines import TARGETS
from core.extensions import db
from core.inputs import bad_input_response
from core.models import Department, Product
from core.roles import LEDGER
from core.services import ledger
from core.services.access import line_filter
from core.services.errors import ServiceError
from core.services.lines import registry
from core.vocab import COMPENSATION_KINDS, DEADLINES
from core.workflow import STAGE_LABELS, STAGES

PRODUCT_CHOICES = 500  # product codes offered while typing


def _field(exc: ServiceError) -> str:
    return next(iter(exc.errors), "filters")


class LedgerView(BaseView):
    """Every case of the reader's lines with its key fields and outcome."""

    route_base = "/ledger"
    default_view = "index"
    class_permission_name = LEDGER
    base_permissions = [ledger.CAN_READ_LEDGER]
    method_permission_name = {"index": "read", "export": "read"}

    @expose("/")
    @has_access
    def index(self):
        actor = g.user
        try:
            filters = ledger.clean_filters(actor, request.args)
            number, _size = ledger.parse_page({"page": request.args.get("page")})
            items, total = ledger.page(actor, filters, number=number, size=ledger.PAGE_SIZE)
        except ServiceError as exc:
            return bad_input_response(_field(exc), exc.message)
        pages = max((total + ledger.PAGE_SIZE - 1) // ledger.PAGE_SIZE, 1)
        locale = str(get_locale() or "zh_CN")
        products = db.session.scalars(
            sa.select(Product.code)
            .where(line_filter(actor, Product.business_line_id))
            .distinct()
            .order_by(Product.code)
            .limit(PRODUCT_CHOICES)
        )
        return self.render_template(
            "kesu/ledger.html",
            items=items,
            count=total,
            page=number,
            pages=pages,
            filters=filters,
            lines=ledger.ledger_lines(actor),
            categories=[(d.key, d.name(locale)) for d in registry().categories()],
            stages=[(s, STAGE_LABELS[s]) for s in STAGES],
            departments=list(db.session.scalars(sa.select(Department).order_by(Department.code))),
            products=list(products),
            targets=list(TARGETS),
            deadline_labels=DEADLINES,
            sla_labels=ledger.SLA_LABELS,
            stage_labels=STAGE_LABELS,
            kind_labels=COMPENSATION_KINDS,
        )

    @expose("/export")
    @has_access
    def export(self):
        actor = g.user
        try:
            filters = ledger.clean_filters(actor, request.args)
        except ServiceError as exc:
            return bad_input_response(_field(exc), exc.message)
        try:
            return ledger_file_response(actor, filters)
        except ServiceError as exc:  # more rows than one export holds
            flash(str(exc.message), "danger")
            return redirect(url_for("LedgerView.index", **filters))
