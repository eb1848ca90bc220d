"""My work (我的工作): what waits for the signed-in user, section by section, per role.

Pure reads under the record rules (only the user's business lines, a department's cases for
a department-bound role). Each section is one light query (columns, not whole cases), so the
work list and the count in the menu cost a fixed number of statements however many cases
there are. Plugins add their own sections through ``kesu_work_sections``.

Rows are ordered by their next deadline, the overdue ones first; a row without a deadline
comes last.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

import sqlalchemy as sa
from flask import current_app, g, has_request_context
from flask_babel import lazy_gettext as _l

from core.contracts import WorkRow, WorkSection
from core.db import utcnow
from core.extensions import db
from core.models import (
    ApprovalStep,
    Case,
    CaseDeadline,
    CaseVisit,
    CompensationLine,
    Customer,
    LinePlugin,
    LinePosition,
)
from core.roles import (
    AUDIT,
    CAN_DISMISS_VISIT,
    CAN_READ_AUDIT,
    CAN_SETTLE_GOODS,
    CAN_SETTLE_MONEY,
    COMPENSATION,
    CS_AGENT,
    CS_SUPERVISOR,
    FINANCE,
    FINANCE_EXPORT,
    MANAGER,
    QA,
    RESPONSIBLE_DEPT,
    SALES,
    VISIT,
)
from core.services.access import can, is_admin, line_filter
from core.services.execution import MONEY_KINDS
from core.services.finance_rows import KINDS as EXPORT_LISTS
from core.services.sla_deadlines import overdue_clause
from core.vocab import COMPENSATION_KINDS
from core.workflow import FINAL, STAGE_LABELS

AUDITOR = "Auditor"
EXPORT_KINDS = tuple(sorted({kind for kinds in EXPORT_LISTS.values() for kind in kinds}))
_G_KEY = "_kesu_work_sections"


def _roles(user) -> set[str]:
    return {role.name for role in getattr(user, "roles", ())}


def _case_link(case_id: int) -> str:
    return f"/cases/{case_id}"


def _due_key(row: WorkRow) -> tuple:
    due = row.due
    if isinstance(due, dt.datetime):
        moment = due
    elif isinstance(due, dt.date):
        moment = dt.datetime.combine(due, dt.time.max, dt.UTC)
    else:
        moment = None
    return (not row.overdue, moment is None, moment or dt.datetime.max.replace(tzinfo=dt.UTC))


def in_order(rows: Iterable[WorkRow]) -> tuple[WorkRow, ...]:
    """Overdue first, then by deadline (soonest first), rows without one last; then number."""
    return tuple(sorted(rows, key=lambda r: (*_due_key(r), r.number)))


# -- case rows ----------------------------------------------------------------------------


def case_rows(user, now: dt.datetime, *where: Any, note=None) -> tuple[WorkRow, ...]:
    """Cases of the user's lines matching ``where``: number, customer, stage, next deadline."""
    stmt = (
        sa.select(Case.id, Case.number, Case.status, Customer.name, Case.next_due_at)
        .join(Customer, Customer.id == Case.customer_id)
        .where(line_filter(user, Case.business_line_id), *where)
    )
    rows = []
    for case_id, number, status, customer, due in db.session.execute(stmt):
        due = _aware(due)
        rows.append(
            WorkRow(
                number=number,
                title=customer,
                link=_case_link(case_id),
                due=due,
                overdue=due is not None and due < now,
                note=str(note if note is not None else STAGE_LABELS.get(status, status)),
            )
        )
    return in_order(rows)


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and value.tzinfo is None:  # SQLite's MIN() loses the type decorator
        value = dt.datetime.fromisoformat(str(value)) if isinstance(value, str) else value
        value = value.replace(tzinfo=dt.UTC)
    return value


def _mine(user) -> Any:
    return sa.or_(Case.handler_id == user.id, Case.created_by_id == user.id)


def _mine_to_move_on(user) -> Any:
    """Cases the user handles that wait for their step (investigate, propose, submit, mark
    executed, close once QA found the action effective), and their own registrations once
    one of those steps but the investigation waits for them."""
    waiting = sa.or_(
        Case.status.in_(("proposed", "executing")),
        sa.and_(Case.status == "verifying", Case.verified_effective.is_(True)),
    )
    return sa.or_(
        sa.and_(Case.handler_id == user.id, sa.or_(Case.status == "investigating", waiting)),
        sa.and_(Case.created_by_id == user.id, waiting),
    )


def _my_department(user) -> Any:
    department = getattr(user, "department_id", None)
    clauses = [Case.handler_id == user.id]
    if department is not None:
        clauses.append(Case.department_id == department)
    return sa.or_(*clauses)


def _escalated() -> Any:
    return sa.exists().where(
        CaseDeadline.case_id == Case.id,
        CaseDeadline.state == "running",
        CaseDeadline.escalated_at.is_not(None),
    )


def _approvals(user, now: dt.datetime) -> tuple[WorkRow, ...]:
    """Approving cases whose pending step the user holds a position for (two queries)."""
    held = {
        (p.business_line_id, p.position)
        for p in db.session.scalars(sa.select(LinePosition).where(LinePosition.user_id == user.id))
    }
    if not held:
        return ()
    steps = db.session.execute(
        sa.select(
            ApprovalStep.case_id,
            ApprovalStep.round,
            ApprovalStep.seq,
            ApprovalStep.role,
            ApprovalStep.decision,
            Case.business_line_id,
        )
        .join(Case, Case.id == ApprovalStep.case_id)
        .where(line_filter(user, Case.business_line_id), Case.status == "approving")
        .order_by(ApprovalStep.case_id, ApprovalStep.round.desc(), ApprovalStep.seq)
    ).all()
    latest: dict[int, int] = {}
    pending: dict[int, tuple[int, str]] = {}
    for case_id, round_no, _seq, role, decision, line_id in steps:
        latest.setdefault(case_id, round_no)
        if round_no != latest[case_id] or decision != "pending" or case_id in pending:
            continue
        pending[case_id] = (line_id, role)
    mine = [
        case_id
        for case_id, (line_id, role) in pending.items()
        if any((line_id, position) in held for position in role.split("|"))
    ]
    if not mine:
        return ()
    return case_rows(user, now, Case.id.in_(mine), note=_l("Waiting for my approval"))


def _visits_to_reopen(user) -> tuple[WorkRow, ...]:
    stmt = (
        sa.select(Case.id, Case.number, Customer.name, CaseVisit.satisfaction)
        .join(Case, Case.id == CaseVisit.case_id)
        .join(Customer, Customer.id == Case.customer_id)
        .where(line_filter(user, Case.business_line_id), CaseVisit.followup == "pending")
        .order_by(CaseVisit.visited_at, CaseVisit.id)
    )
    return tuple(
        WorkRow(
            number=number,
            title=customer,
            link=_case_link(case_id),
            note=str(_l("Satisfaction %(score)s/5", score=score)),
        )
        for case_id, number, customer, score in db.session.execute(stmt)
    )


# -- compensation lines -------------------------------------------------------------------


def _line_rows(user, now: dt.datetime, *where: Any) -> tuple[WorkRow, ...]:
    """Approved, pending compensation lines of the user's lines matching ``where``."""
    stmt = (
        sa.select(
            Case.id,
            Case.number,
            Customer.name,
            CompensationLine.kind,
            CompensationLine.quantity,
            CompensationLine.amount,
            CompensationLine.credit_due_on,
            Case.next_due_at,
        )
        .join(Case, Case.id == CompensationLine.case_id)
        .join(Customer, Customer.id == Case.customer_id)
        .where(
            line_filter(user, Case.business_line_id),
            CompensationLine.approved_at.is_not(None),
            CompensationLine.exec_status == "pending",
            *where,
        )
    )
    today = now.date()
    rows = []
    for (
        case_id,
        number,
        customer,
        kind,
        quantity,
        amount,
        credit_due,
        next_due,
    ) in db.session.execute(stmt):
        label = str(COMPENSATION_KINDS.get(kind, kind))
        note = f"{label} × {quantity}" if quantity else f"{label} {amount}"
        if credit_due is not None:
            due, overdue = credit_due, credit_due < today
        else:
            due = _aware(next_due)
            overdue = due is not None and due < now
        rows.append(
            WorkRow(number, customer, _case_link(case_id), due=due, overdue=overdue, note=note)
        )
    return in_order(rows)


# -- the sections -------------------------------------------------------------------------


def _core_sections(user, now: dt.datetime) -> list[WorkSection]:
    roles = _roles(user)
    open_case = Case.status.not_in(sorted(FINAL))
    out: list[WorkSection] = []

    def add(key, title, rows, link=None, link_label=None):
        out.append(WorkSection(key, title, tuple(rows), link=link, link_label=link_label))

    if CS_AGENT in roles:
        add("my_new", _l("My new cases"), case_rows(user, now, _mine(user), Case.status == "new"))
        add(
            "my_handling",
            _l("My cases to move on"),
            case_rows(user, now, _mine_to_move_on(user)),
        )
        add(
            "my_on_hold",
            _l("My cases on hold"),
            case_rows(user, now, _mine(user), Case.status == "on_hold"),
        )
        add(
            "my_confirming",
            _l("My cases awaiting the customer"),
            case_rows(user, now, _mine(user), Case.status == "confirming"),
        )
    if CS_SUPERVISOR in roles:
        add("unassigned", _l("Unassigned cases"), case_rows(user, now, Case.status == "accepted"))
        add("overdue", _l("Overdue cases"), case_rows(user, now, open_case, overdue_clause(now)))
        add("escalations", _l("Escalations"), case_rows(user, now, open_case, _escalated()))
    if (CS_SUPERVISOR in roles or MANAGER in roles) and can(user, "can_approve"):
        add("approvals", _l("Waiting for my approval"), _approvals(user, now), link="/inbox/")
    if CS_SUPERVISOR in roles and can(user, CAN_DISMISS_VISIT, VISIT):
        add(
            "reopen",
            _l("Dissatisfied customers: reopen or dismiss"),
            _visits_to_reopen(user),
            link="/visits/#kesu-visits-reopen",
        )
    if QA in roles or RESPONSIBLE_DEPT in roles:
        add(
            "investigate",
            _l("Analyses due"),
            case_rows(user, now, _my_department(user), Case.status == "investigating"),
        )
    if QA in roles and can(user, "can_verify"):
        add("verify", _l("Verifications"), case_rows(user, now, Case.status == "verifying"))
    if SALES in roles and can(user, CAN_SETTLE_GOODS, COMPENSATION):
        add(
            "goods",
            _l("Compensation to carry out"),
            _line_rows(user, now, CompensationLine.kind.not_in(sorted(MONEY_KINDS))),
        )
    if FINANCE in roles and can(user, "can_read", FINANCE_EXPORT):
        add(
            "to_export",
            _l("Lines to export"),
            _line_rows(
                user,
                now,
                CompensationLine.batch_id.is_(None),
                CompensationLine.kind.in_(EXPORT_KINDS),
            ),
            link="/finance/",
        )
    if FINANCE in roles and can(user, CAN_SETTLE_MONEY, COMPENSATION):
        add(
            "references",
            _l("References to enter"),
            _line_rows(
                user,
                now,
                CompensationLine.kind.in_(sorted(MONEY_KINDS)),
                sa.or_(
                    CompensationLine.batch_id.is_not(None),
                    CompensationLine.kind.not_in(EXPORT_KINDS),
                ),
            ),
        )
    return out


def _tool_sections(user) -> list[WorkSection]:
    """Links, not work items: the auditor's audit trail and integrity check."""
    if AUDITOR not in _roles(user) or not can(user, CAN_READ_AUDIT, AUDIT):
        return []
    return [
        WorkSection(
            "audit",
            _l("Audit"),
            (
                WorkRow("", str(_l("Audit trail")), "/audit/"),
                WorkRow("", str(_l("Integrity check")), "/audit/#kesu-verify"),
            ),
            counted=False,
        )
    ]


def _local_link(link: str | None) -> str | None:
    """A path of this site, or the home page: a plugin's link never leads elsewhere."""
    if link is None:
        return None
    return link if link.startswith("/") and not link.startswith(("//", "/\\")) else "/"


def _plugin_keys(user) -> frozenset[str]:
    stmt = sa.select(LinePlugin.plugin_key).where(line_filter(user, LinePlugin.business_line_id))
    return frozenset(db.session.scalars(stmt.distinct()))


def _plugin_sections(user, now: dt.datetime) -> list[WorkSection]:
    registry = current_app.extensions["kesu_plugins"]
    keys = _plugin_keys(user)
    out = []
    for result in registry.caller("kesu_work_sections", keys)(user=user, now=now):
        for section in result or ():
            out.append(
                WorkSection(
                    section.key,
                    section.title,
                    in_order(replace(row, link=_local_link(row.link)) for row in section.rows),
                    link=_local_link(section.link),
                    link_label=section.link_label,
                    counted=section.counted,
                )
            )
    return out


def sections(user, now: dt.datetime | None = None) -> list[WorkSection]:
    """Every section the user's roles entitle them to, the core's first, then the plugins'.

    Within a request the result is kept (the page and the menu count share it).
    """
    if user is None or not getattr(user, "is_authenticated", False) or is_admin(user):
        return []
    cached = g.get(_G_KEY) if has_request_context() and now is None else None
    if cached is not None and cached[0] == user.id:
        return cached[1]
    moment = now or utcnow()
    found = [*_core_sections(user, moment), *_plugin_sections(user, moment), *_tool_sections(user)]
    if has_request_context() and now is None:
        setattr(g, _G_KEY, (user.id, found))
    return found


def count(user) -> int:
    """How many items wait for the user: the rows of the counted sections."""
    return sum(section.count for section in sections(user) if section.counted)
