"""The Finance workspace (财务导出): what the credit-note and reshipment lists would take now,
the export button, past batches with their files and the void form, the money lines awaiting
their ERP document reference and the reship-before-recall credits still open.

A thin screen over core.services.finance (export batches) and core.services.execution.
"""

from __future__ import annotations

from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import lazy_gettext as _l

from core.downloads import download_response
from core.roles import (
    CAN_EXPORT,
    CAN_READ,
    CAN_SETTLE_MONEY,
    CAN_VOID,
    COMPENSATION,
    FINANCE_EXPORT,
)
from core.services import execution, finance
from core.services.access import can
from core.services.errors import ServiceError
from core.timeutil import in_zone
from core.views.compensation import error_text, flash_field_error
from core.views.line_pick import chosen_line
from core.vocab import COMPENSATION_KINDS

LIST_LABELS = {
    "credit_notes": _l("Credit-note and adjustment list"),
    "reshipments": _l("Reshipment and free-goods list"),
}
FILTERS = ("approved_from", "approved_to")


class FinanceExportView(BaseView):
    """Finance's workspace: pending lines per list, exports, batches, open references."""

    route_base = "/finance"
    default_view = "workspace"
    class_permission_name = FINANCE_EXPORT
    base_permissions = [CAN_READ, CAN_EXPORT, CAN_VOID]
    method_permission_name = {
        "workspace": "read",
        "download": "read",
        "create_batch": "export",
        "void_batch": "void",
    }

    def _line(self, code: str | None):
        return chosen_line(code)

    @expose("/")
    @has_access
    def workspace(self):
        actor = g.user
        lines, line = self._line(request.args.get("business_line"))
        period = {key: request.args.get(key, "").strip() for key in FILTERS}
        errors: list[str] = []
        lists = []
        for kind in finance.LISTS:
            try:
                result = finance.pending(actor, kind, line.code, *period.values())
            except ServiceError as exc:
                if exc.status == 404:
                    abort(404)
                errors.append(error_text(exc))
                result = None
            lists.append((kind, LIST_LABELS[kind], result))
        if errors:  # one bad filter: say it once, show nothing rather than a wrong list
            errors = list(dict.fromkeys(errors))
        created = request.args.get("created", type=int)
        return self.render_template(
            "kesu/finance.html",
            lines=lines,
            line=line,
            tz=line.timezone,
            in_zone=in_zone,
            period=period,
            errors=errors,
            lists=lists,
            list_labels=LIST_LABELS,
            kind_labels=COMPENSATION_KINDS,
            signed_amount=finance.signed_amount,
            batches=finance.batches(actor, line.code),
            created=created,
            awaiting=execution.awaiting_reference(actor, execution.MONEY_KINDS, line.id),
            # Overdue first, then the soonest due (the service's order).
            credits_due=sorted(execution.credits_due(actor, line.id), key=lambda row: not row[1]),
            can_export=can(actor, CAN_EXPORT, FINANCE_EXPORT),
            can_void=can(actor, CAN_VOID, FINANCE_EXPORT),
            can_settle=can(actor, CAN_SETTLE_MONEY, COMPENSATION),
        )

    @expose("/export", methods=["POST"])
    @has_access
    def create_batch(self):
        data = {
            key: request.form.get(key, "").strip()
            for key in ("kind", "business_line", *FILTERS)
            if request.form.get(key, "").strip()
        }
        back = {"business_line": data.get("business_line") or None}
        back.update({key: data[key] for key in FILTERS if key in data})
        try:
            batch = finance.export(g.user, data)
        except ServiceError as exc:
            flash_field_error(exc)
            return redirect(url_for("FinanceExportView.workspace", **back))
        flash(
            str(
                _l(
                    "Batch %(number)s exported: %(n)s lines, total %(total)s.",
                    number=batch.number,
                    n=batch.line_count,
                    total=batch.total,
                )
            ),
            "success",
        )
        back["created"] = batch.id
        return redirect(url_for("FinanceExportView.workspace", **back) + "#kesu-batches")

    @expose("/export/<int:batch_id>/download/<fmt>")
    @has_access
    def download(self, batch_id: int, fmt: str):
        try:
            content, filename, mimetype = finance.batch_file(g.user, batch_id, fmt)
        except ServiceError:
            abort(404)
        return download_response(content, filename, mimetype)

    @expose("/export/<int:batch_id>/void", methods=["POST"])
    @has_access
    def void_batch(self, batch_id: int):
        code = request.form.get("business_line") or None
        try:
            batch = finance.void(g.user, batch_id, {"reason": request.form.get("reason", "")})
        except ServiceError as exc:
            flash_field_error(exc)
        else:
            flash(str(_l("Batch %(number)s voided.", number=batch.number)), "success")
            code = batch.business_line.code
        return redirect(
            url_for("FinanceExportView.workspace", business_line=code) + "#kesu-batches"
        )
