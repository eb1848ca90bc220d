"""Carrying out compensation on the screens: each approved line's execution on the case page,
and the forms that mark a line done (with its ERP document reference) or cancel it.

The case page's compensation section (kesu/_compensation.html) asks ``kesu_compensation(case)``
for its rows; the forms post here and come back to the case (or to the Finance workspace).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import lazy_gettext as _l

from core.models import Case, CompensationLine
from core.roles import CAN_CANCEL_LINE, COMPENSATION
from core.services import execution
from core.services.access import can
from core.services.errors import ServiceError
from core.timeutil import in_zone
from core.vocab import COMPENSATION_KINDS

EXEC_STATUSES = {
    "pending": _l("Execution pending"),
    "done": _l("Execution done"),
    "cancelled": _l("Execution cancelled"),
}
# Where a form may send the user back to besides the case page (no free URLs: no open redirect).
RETURNS = {"finance": "FinanceExportView.workspace"}


# The fields these screens' forms send, as a flash message names them.
FIELD_LABELS = {
    "reference": _l("ERP document reference"),
    "reason": _l("Reason"),
    "line": _l("Compensation line"),
    "compensation": _l("Compensation"),
    "kind": _l("List"),
    "business_line": _l("Business line"),
    "approved_from": _l("Approved from"),
    "approved_to": _l("Approved to"),
}


def error_text(exc: ServiceError) -> str:
    """A service error as one sentence naming the form fields it is about."""
    parts = []
    for field, messages in exc.errors.items():
        for message in messages:
            label = FIELD_LABELS.get(field)
            parts.append(
                str(_l("%(field)s: %(message)s", field=label, message=message))
                if label
                else str(message)
            )
    return " ".join(dict.fromkeys(parts)) or str(exc.message)


def flash_field_error(exc: ServiceError) -> None:
    """Show a service error on the next page; an invisible record is a plain 404."""
    if exc.status == 404:
        abort(404)
    flash(error_text(exc), "danger")


@dataclass
class LineRow:
    """One compensation line as the case page shows its approval and execution."""

    line: CompensationLine
    kind: str
    approved_on: str | None
    status: str
    status_label: str
    by: str | None
    at: str | None
    batch: str | None
    credit_due_on: str | None
    credit_overdue: bool
    may_mark_done: bool
    may_cancel: bool


def line_rows(actor, case: Case) -> list[LineRow]:
    """The case's lines with what the actor may do with each."""
    tz = case.business_line.timezone
    may_cancel = can(actor, CAN_CANCEL_LINE, COMPENSATION)
    rows = []
    for line in case.compensation:
        open_line = line.approved_at is not None and line.exec_status == "pending"
        rows.append(
            LineRow(
                line=line,
                kind=str(COMPENSATION_KINDS.get(line.kind, line.kind)),
                approved_on=in_zone(line.approved_at, tz).date().isoformat()
                if line.approved_at
                else None,
                status=line.exec_status,
                status_label=str(EXEC_STATUSES.get(line.exec_status, line.exec_status)),
                by=line.exec_by.display_name if line.exec_by else None,
                at=in_zone(line.exec_at, tz).strftime("%Y-%m-%d %H:%M") if line.exec_at else None,
                batch=line.batch.number if line.batch is not None else None,
                credit_due_on=line.credit_due_on.isoformat() if line.credit_due_on else None,
                credit_overdue=execution.credit_overdue(line, tz),
                may_mark_done=open_line
                and can(actor, execution.settle_permission(line.kind), COMPENSATION),
                may_cancel=open_line and may_cancel and line.batch_id is None,
            )
        )
    return rows


def case_compensation(case: Case) -> list[LineRow]:
    """The template global ``kesu_compensation``: the case page's rows for the signed-in user."""
    return line_rows(g.user, case)


def install_template_globals(app) -> None:
    app.jinja_env.globals["kesu_compensation"] = case_compensation
    app.jinja_env.globals["kesu_exec_statuses"] = EXEC_STATUSES


class CompensationView(BaseView):
    """Mark an approved compensation line done, or cancel it; the service checks who may."""

    route_base = "/cases"
    class_permission_name = "Case"
    base_permissions = ["can_read"]
    method_permission_name = {"done": "read", "cancel": "read"}

    def _back(self, pk: int):
        target = RETURNS.get(request.form.get("next", ""))
        if target:
            code = request.form.get("business_line") or None
            return redirect(url_for(target, business_line=code))
        return redirect(url_for("CaseView.show", pk=pk) + "#compensation")

    def _run(self, pk: int, line_id: int, change, data: dict[str, Any], message):
        try:
            case = change(g.user, pk, line_id, data)
        except ServiceError as exc:
            flash_field_error(exc)
        else:
            flash(message(case), "success")
        return self._back(pk)

    @expose("/<int:pk>/compensation/<int:line_id>/done", methods=["POST"])
    @has_access
    def done(self, pk: int, line_id: int):
        return self._run(
            pk,
            line_id,
            execution.mark_done,
            {"reference": request.form.get("reference", "")},
            lambda case: str(_l("%(number)s: line marked done.", number=case.number)),
        )

    @expose("/<int:pk>/compensation/<int:line_id>/cancel", methods=["POST"])
    @has_access
    def cancel(self, pk: int, line_id: int):
        return self._run(
            pk,
            line_id,
            execution.cancel,
            {"reason": request.form.get("reason", "")},
            lambda case: str(_l("%(number)s: line cancelled.", number=case.number)),
        )
