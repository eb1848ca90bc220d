"""Told when work arrives: who hears that a case reached them, in the app and by e-mail.

- ``assign``: the handler and the head of the responsible department;
- a case reaching an approval step (``submit`` into approving, or an ``approve`` that leaves
  another step pending): the holders of that step's positions on the case's line;
- ``refuse``: the proposer (who last proposed the compensation; failing that, the handler).

Whoever decides a step has their notice of it marked read: the bell counts work still waiting.

Called by :func:`core.services.workflow.run_action` inside the action's write transaction: the
in-app notifications are written with it and the e-mails go out once it commits, so an action
that fails or rolls back tells nobody. The person acting is never told of their own action;
nobody is told of a case they cannot open.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale, gettext

from core.extensions import db
from core.i18n import translated
from core.models import AuditEvent, Case, KesuUser
from core.services import mail, positions
from core.services.access import line_ids
from core.services.notifications import N_, notify, settle_case_notices

ASSIGNED = N_("Case %(number)s is assigned to you.")
ASSIGNED_DEPARTMENT = N_("Case %(number)s is assigned to your department %(department)s.")
WAITING = N_("Case %(number)s waits for your approval.")
REFUSED = N_("Case %(number)s: the proposal was refused: %(reason)s")

REASON_CHARS = 200  # a refusal's reason as quoted in the notice


def after_action(actor, case: Case, name: str, old_status: str, pending_step) -> None:
    """Tell whoever the action ``name`` just gave work to (see the module docstring)."""
    if name in ("approve", "refuse"):
        # the step is decided: no holder of its positions is waiting for it any more
        settle_case_notices(None, case.id, "approval")
    if name == "assign":
        _tell(actor, case, "assigned", [case.handler], ASSIGNED, {})
        department = case.department
        if department is not None and department.head is not None:
            _tell(
                actor,
                case,
                "assigned",
                [department.head],
                ASSIGNED_DEPARTMENT,
                {"department": department.name},
            )
    elif name in ("submit", "approve") and case.status == "approving":
        step = pending_step(case)
        if step is not None:
            holders = positions.holders(case.business_line_id, step.role.split("|"))
            _tell(actor, case, "approval", holders, WAITING, {})
    elif name == "refuse":
        steps = [s for s in case.approvals if s.decision == "refused"]
        reason = (max(steps, key=lambda s: (s.round, s.seq)).comment or "") if steps else ""
        if len(reason) > REASON_CHARS:
            reason = reason[: REASON_CHARS - 1] + "…"
        _tell(actor, case, "refused", [proposer(case)], REFUSED, {"reason": reason})


def proposer(case: Case) -> KesuUser | None:
    """Who last proposed the case's compensation (or submitted it); else its handler."""
    for action in ("propose", "submit"):
        actor_id = db.session.scalar(
            sa.select(AuditEvent.actor_id)
            .where(AuditEvent.case_id == case.id, AuditEvent.action == action)
            .order_by(AuditEvent.id.desc())
            .limit(1)
        )
        if actor_id is not None:
            return db.session.get(KesuUser, actor_id)
    return case.handler


def may_open(user: KesuUser, case: Case) -> bool:
    """Whether ``user`` is active and may see the case's line."""
    if not user.active:
        return False
    ids = line_ids(user)
    return ids is None or case.business_line_id in ids


def _tell(
    actor,
    case: Case,
    kind: str,
    users: Iterable[KesuUser | None],
    message: str,
    params: dict[str, Any],
) -> None:
    actor_id = getattr(actor, "id", None)
    recipients = [u for u in users if u is not None and u.id != actor_id and may_open(u, case)]
    if not recipients:
        return
    params = {"number": case.number, **params}
    link = f"/cases/{case.id}"
    notify(recipients, kind, message, params, case=case, link=link)
    mail.send_after_commit(_mails(case, recipients, message, params, link))


def _mails(case: Case, users: list[KesuUser], message: str, params: dict, link: str):
    if not mail.configured():
        return []
    url = current_app.config["KESU_BASE_URL"] + link
    out = []
    # The recipients read the line's language (users have no language of their own).
    with force_locale(case.business_line.locale or "zh_CN"):
        subject = gettext("[Kesu] Case %(number)s", number=case.number)
        body = "\n\n".join(
            [translated(message, params), gettext("Open the case: %(url)s", url=url)]
        )
        for user in users:
            out.append(mail.compose(user, subject, body))
    return out
