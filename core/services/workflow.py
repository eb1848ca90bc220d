"""Running workflow actions: the only way a case's status changes."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from core import limits
from core.contracts import Proposal
from core.db import utcnow, write_transaction
from core.extensions import db
from core.fields import is_blank
from core.i18n import translated_issues
from core.models import ApprovalStep, Case, Department, KesuUser
from core.roles import CAN_OVERRIDE_ACCEPTANCE
from core.services import (
    audit,
    execution,
    positions,
    root_causes,
    sla_deadlines,
    visits,
    work_notices,
)
from core.services.access import (
    can,
    cases_query,
    department_bound,
    get_case,
    may_handle,
    require_department,
)
from core.services.bodies import within
from core.services.cases import (
    case_caller,
    case_facts,
    category_enabled,
    emit,
    flatten,
    optional_version,
    proposal_lines,
    recompute,
    require_version,
    snapshot,
    touch,
)
from core.services.compensation import compensation_limit_errors, replace_compensation
from core.services.empty_proposal import check_submit
from core.services.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    PreconditionFailed,
)
from core.services.lines import line_facts
from core.vocab import POSITIONS, position_label
from core.workflow import (
    ACTIONS,
    STAGE_LABELS,
    Action,
    next_used,
    reopen_target,
    used_stages,
)


def may_decide(actor, case: Case, step: ApprovalStep) -> bool:
    """Only a holder of one of the step's positions on the case's line decides it."""
    return positions.holds(actor, case.business_line_id, step.role.split("|"))


def current_steps(case: Case) -> list[ApprovalStep]:
    """The approval steps of the case's latest submission, in order."""
    if not case.approvals:
        return []
    latest = max(s.round for s in case.approvals)
    return [s for s in case.approvals if s.round == latest]


def pending_step(case: Case) -> ApprovalStep | None:
    return next((s for s in current_steps(case) if s.decision == "pending"), None)


def allowed_actions(actor: KesuUser, case: Case) -> list[str]:
    """The actions the actor may run on the case now (its buttons and ``allowed_actions``)."""
    if case.archived_at or not category_enabled(case) or department_bound(actor, case):
        return []
    out = []
    for name, action in ACTIONS.items():
        if case.status not in action.sources or not can(actor, f"can_{name}"):
            continue
        if name in ("approve", "refuse"):
            step = pending_step(case)
            if step is None or not may_decide(actor, case, step):
                continue
        out.append(name)
    return out


def _used(case: Case, has_compensation: bool | None = None) -> frozenset[str]:
    facts = case_facts(case)
    declared = case_caller("kesu_workflow_stages", facts.line, case.category)(case=facts)
    if has_compensation is None:
        has_compensation = bool(case.compensation)
    return used_stages(declared, has_compensation)


def _comment(payload: Mapping[str, Any]) -> str | None:
    value = payload.get("comment")
    if value is None:
        return None
    if not isinstance(value, str):
        raise Invalid(_l("Must be text."), field="comment")
    return within(value.strip(), "comment", limits.TEXT_LONG) or None


def _bool(payload: Mapping[str, Any], key: str) -> bool | None:
    value = payload.get(key)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise Invalid(_l("Must be true or false."), field=key)
    return value


def _text(payload: Mapping[str, Any], key: str) -> str | None:
    value = payload.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise Invalid(_l("Must be text."), field=key)
    return within(value.strip(), key, TEXT_LIMITS.get(key, limits.TEXT_SHORT)) or None


TEXT_LIMITS = {"root_cause": limits.TEXT_LONG}  # other texts (department, handler) are short


# -- action handlers: each sets the new status and returns extra audited values -------------

Handler = Callable[[KesuUser, Case, Action, Mapping[str, Any], str | None], dict[str, Any]]


def _accept(actor, case, action, payload, comment):
    override = _bool(payload, "override")
    if case.acceptance_issues:
        if not override:
            raise PreconditionFailed(
                _l("Acceptance issues remain; a supervisor may override them with a reason."),
                field="acceptance_issues",
                acceptance_issues=translated_issues(case.acceptance_issues),
            )
        if not can(actor, CAN_OVERRIDE_ACCEPTANCE):
            raise Forbidden(
                _l("Only a supervisor may override acceptance issues."), field="override"
            )
        if comment is None:
            raise PreconditionFailed(_l("Give the reason for the override."), field="comment")
        case.acceptance_override = comment
    case.status = next_used(action.target, _used(case))
    return {"override": bool(case.acceptance_override)} if override else {}


def _reject(actor, case, action, payload, comment):
    case.status = action.target
    return {}


def _assign(actor, case, action, payload, comment):
    ref = payload.get("department")
    department = None
    if isinstance(ref, str) and ref.strip():
        code = within(ref.strip(), "department", limits.TEXT_SHORT)
        department = db.session.scalar(sa.select(Department).where(Department.code == code))
    elif isinstance(ref, int) and not isinstance(ref, bool):
        department = db.session.get(Department, ref)
    if department is None:
        raise PreconditionFailed(
            _l("Name the responsible department.")
            if ref in (None, "")
            else _l("Unknown department."),
            field="department",
        )
    handler_name = _text(payload, "handler")
    if handler_name is not None:
        handler = db.session.scalar(sa.select(KesuUser).where(KesuUser.username == handler_name))
        if (
            handler is None
            or not handler.active
            or case.business_line_id not in {line.id for line in handler.business_lines}
        ):
            raise PreconditionFailed(_l("Unknown handler for this business line."), field="handler")
        if not may_handle(handler):
            raise PreconditionFailed(
                _l("This person's role does not handle cases."), field="handler"
            )
        case.handler = handler
    case.department = department
    case.status = action.target
    return {}


def _propose(actor, case, action, payload, comment):
    before = [dataclasses.asdict(line) for line in proposal_lines(case)]
    root_cause = _text(payload, "root_cause") or case.root_cause
    if root_cause is None:
        raise PreconditionFailed(_l("Record the root cause first."), field="root_cause")
    case.root_cause = root_cause
    entry = root_causes.resolve(case.business_line_id, payload.get("root_cause_category"))
    if entry is not None:
        case.root_cause_id, case.root_cause_entry = entry.id, entry
    facts = case_facts(case)
    proposal = case_caller("kesu_compensation_proposal", facts.line, case.category)(case=facts)
    # Once approved, compensation stands: a case proposed again after that (reopened, or its
    # corrective action found ineffective) keeps it, and a correction is a line added by hand.
    if proposal is not None and len(execution.unapproved(case)) == len(case.compensation):
        if not isinstance(proposal, Proposal):
            proposal = Proposal(lines=tuple(proposal))
        errors = compensation_limit_errors(proposal.lines, field="compensation")
        if errors:
            raise PreconditionFailed(next(iter(errors.values()))[0], errors=errors)
        replace_compensation(case, proposal.lines)
        case.proposal_note = proposal.note or None
    case.status = action.target
    return {"compensation": [before, [dataclasses.asdict(line) for line in proposal_lines(case)]]}


def _submit(actor, case, action, payload, comment):
    confirmed = check_submit(case, payload, comment)
    facts = case_facts(case)
    lines = facts.compensation
    # Only lines not yet approved need approval (the steps weigh the whole compensation).
    new_lines = execution.unapproved(case)
    specs = (
        flatten(
            case_caller("kesu_approval_steps", facts.line, case.category)(case=facts, lines=lines)
        )
        if new_lines
        else []
    )
    steps = order_steps(specs)
    used = _used(case, bool(new_lines))
    if not steps:
        used = used - {"approving"}
    target = next_used(action.target, used)
    if target == "approving":
        round_no = max((s.round for s in case.approvals), default=0) + 1
        for seq, spec in enumerate(steps, start=1):
            case.approvals.append(
                ApprovalStep(round=round_no, seq=seq, step=spec.step, role=spec.role)
            )
        case.status = target
        return {"approval_steps": [None, [s.step for s in steps]], **confirmed}
    case.status = target
    approved = execution.approve_lines(case, None)  # the category asks for no approval
    return {"approved_lines": approved, **confirmed} if approved else confirmed


def order_steps(specs) -> list:
    """One step per name (its first occurrence), ordered by the rank of its positions.

    The supervisor signs first, then sales management, then the directors and the leadership
    (the order of ``core.vocab.POSITIONS``); positions unknown to the core come last, each group
    in the order the plugins named them.
    """
    unique: dict[str, object] = {}
    for spec in specs:
        unique.setdefault(spec.step, spec)
    rank = {position: n for n, position in enumerate(POSITIONS)}
    return sorted(unique.values(), key=lambda s: min(rank.get(p, len(rank)) for p in s.positions))


def _decide(actor, case, decision: str, comment: str | None) -> ApprovalStep:
    step = pending_step(case)
    if step is None:
        raise Conflict(_l("No approval step is waiting."), status=case.status)
    if not may_decide(actor, case, step):
        raise Forbidden(
            str(_l("This step waits for %(position)s.", position=position_label(step.role))),
            field="step",
        )
    step.decision = decision
    step.decided_by = actor if isinstance(actor, KesuUser) else None
    step.decided_at = utcnow()
    step.comment = comment
    touch(case)
    return step


def _approve(actor, case, action, payload, comment):
    step = _decide(actor, case, "approved", comment)
    if pending_step(case) is None:
        case.status = next_used(action.target, _used(case))
        return {"step": step.step, "approved_lines": execution.approve_lines(case, step.round)}
    return {"step": step.step}


def _refuse(actor, case, action, payload, comment):
    step = _decide(actor, case, "refused", comment)
    for other in current_steps(case):
        if other.decision == "pending":
            other.decision = "cancelled"
    case.status = action.target
    return {"step": step.step}


def _advance(actor, case, action, payload, comment):
    case.status = next_used(action.target, _used(case))
    return {}


def _execute(actor, case, action, payload, comment):
    open_lines = execution.pending(case)
    if open_lines:
        message = _l("Every compensation line must be done or cancelled first.")
        raise PreconditionFailed(
            message,
            field="compensation",
            problems=[{"code": "lines_not_done", "field": "compensation", "message": str(message)}],
            lines=[line.id for line in open_lines],
        )
    return _advance(actor, case, action, payload, comment)


def _verify(actor, case, action, payload, comment):
    effective = _bool(payload, "effective")
    if effective is None:
        raise PreconditionFailed(
            _l("Say whether the corrective action is effective."), field="effective"
        )
    case.verified_effective = effective
    if not effective:
        if comment is None:
            raise PreconditionFailed(_l("Say why the action is not effective."), field="comment")
        case.status = "investigating"
        return {
            "effective": effective,
            "deadlines_restarted": sla_deadlines.restart(case, case.status),
        }
    return {"effective": effective}


def _close(actor, case, action, payload, comment):
    if case.status == "verifying" and case.verified_effective is not True:
        raise PreconditionFailed(
            _l("The corrective action must be verified effective before closing."),
            field="verified_effective",
        )
    case.status = action.target
    return {}


def _reopen(actor, case, action, payload, comment):
    case.status = reopen_target(case.status)
    case.verified_effective = None
    reopened = visits.mark_reopened(actor, case)  # off the supervisor's reopen list
    restarted = {"deadlines_restarted": sla_deadlines.restart(case, case.status)}
    return {**restarted, "visits_reopened": reopened} if reopened else restarted


def _hold(actor, case, action, payload, comment):
    case.held_from = case.status
    case.status = action.target
    sla_deadlines.start_hold(case)
    return {}


def _resume(actor, case, action, payload, comment):
    case.status = case.held_from or "new"
    case.held_from = None
    seconds = sla_deadlines.end_hold(case)
    return {"hold_minutes": seconds // 60}


HANDLERS: dict[str, Handler] = {
    "accept": _accept,
    "reject": _reject,
    "assign": _assign,
    "propose": _propose,
    "submit": _submit,
    "approve": _approve,
    "refuse": _refuse,
    "execute": _execute,
    "confirm": _advance,
    "verify": _verify,
    "close": _close,
    "reopen": _reopen,
    "hold": _hold,
    "resume": _resume,
}
assert set(HANDLERS) == set(ACTIONS)


def waiting_for(actor) -> list[Case]:
    """The cases whose pending approval step the actor may decide (their inbox).

    A fixed number of statements however many cases wait: the actor's positions once, the
    cases with their steps and compensation lines loaded alongside."""
    if not can(actor, "can_approve"):
        return []
    held = {(p.business_line_id, p.position) for p in positions.user_positions(actor)}
    if not held:
        return []
    pending = db.session.scalars(
        cases_query(actor)
        .where(
            Case.status == "approving",
            Case.business_line_id.in_(sorted({line for line, _ in held})),
        )
        .options(selectinload(Case.approvals), selectinload(Case.compensation))
        .order_by(Case.received_at)
    )
    return [
        case
        for case in pending
        if (step := pending_step(case))
        and any((case.business_line_id, p) in held for p in step.role.split("|"))
    ]


def run_action(actor: KesuUser, case_id: int, name: str, payload: Any = None) -> Case:
    """Run workflow action ``name`` on a case.

    404 unknown action or invisible case; 403 a role without the action; 409 an action not
    allowed in the case's status (or a stale ``version``); 422 a failed precondition.
    """
    action = ACTIONS.get(name)
    if action is None:
        raise NotFound(_l("Unknown action."), field="action")
    payload = {} if payload is None else payload
    if not isinstance(payload, Mapping):
        raise Invalid(_l("The body must be a JSON object."), field="body")
    version = optional_version(payload)
    comment = _comment(payload)
    with write_transaction():
        case = get_case(actor, case_id, lock=True)
        if not can(actor, f"can_{name}"):
            raise Forbidden(
                str(_l("Your role may not run “%(action)s”.", action=action.label)), field="action"
            )
        require_department(actor, case)
        require_version(case, version)
        if not category_enabled(case):
            raise Conflict(
                _l("This category is disabled on the business line; the case is read-only."),
                status=case.status,
                allowed_actions=[],
            )
        if case.status not in action.sources:
            raise Conflict(
                str(
                    _l(
                        "%(action)s is not possible while the case is %(status)s.",
                        action=action.label,
                        status=STAGE_LABELS.get(case.status, case.status),
                    )
                ),
                status=case.status,
                allowed_actions=allowed_actions(actor, case),
            )
        if action.comment_required and comment is None:
            raise PreconditionFailed(_l("A comment is required."), field="comment")
        facts = case_facts(case, line_facts(case.business_line))
        problems = flatten(
            case_caller("kesu_action_problems", facts.line, case.category)(
                case=facts, action=name, payload=dict(payload)
            )
        )
        if problems:
            first = problems[0]
            raise PreconditionFailed(
                first.message,
                errors={(p.field or p.code): [str(p.message)] for p in problems},
                problems=[
                    {"code": p.code, "field": p.field, "message": str(p.message)} for p in problems
                ],
            )
        old_status = case.status
        before = snapshot(case)
        extra = HANDLERS[name](actor, case, action, payload, comment)
        if case.status != old_status and name != "resume":  # resuming re-enters no stage
            case.stage_times = {**(case.stage_times or {}), case.status: utcnow().isoformat()}
        recompute(case)
        db.session.flush()
        changes = audit.diff(before, snapshot(case))
        if comment is not None:
            changes["comment"] = comment
        changes.update({k: v for k, v in extra.items() if not is_blank(v)})
        audit.record(
            actor, name, entity="case", entity_id=case.id, case_id=case.id, changes=changes
        )
        emit(case, name, old_status, actor, payload)
        work_notices.after_action(actor, case, name, old_status, pending_step)
    return case
