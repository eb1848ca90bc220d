"""Major incidents: finding batch outbreaks, grouping their cases, alerting the line's management."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from core.contracts import CaseFacts
from core.extensions import db
from core.models import Case
from core.roles import CS_SUPERVISOR, MANAGER
from core.services import cases
from core.services.access import line_filter
from core.services.notifications import N_, line_staff, notify, sent
from core.timeutil import iso_in_zone
from plugins.major_incident import DESCRIPTOR, rules
from plugins.major_incident.models import Incident, IncidentCase

KEY = DESCRIPTOR.key
ALERTED_ROLES = (CS_SUPERVISOR, MANAGER)


def settings(case: CaseFacts) -> tuple[int, int]:
    values = case.line.plugin_settings.get(KEY, {})
    return int(values.get("outbreak_cases", 3)), int(values.get("outbreak_days", 30))


def _same_batch(case: CaseFacts, days: int):
    span = dt.timedelta(days=days)
    product_id = case.product.get("id")
    stmt = sa.select(Case.id, Case.received_at).where(
        Case.business_line_id == case.line.id,
        Case.batch_no == case.batch_no,
        Case.product_id == product_id if product_id else Case.product_id.is_(None),
        Case.received_at.between(case.received_at - span, case.received_at + span),
    )
    if case.id is not None:
        stmt = stmt.where(Case.id != case.id)
    return db.session.execute(stmt).all()


def outbreak_members(case: CaseFacts) -> list[int | None]:
    """The ids of the complaints forming a batch outbreak with this one (None for itself if new).

    Two complaints about one batch registered at the same moment count each other: every
    write transaction holds the write gate (core.services.locks) from its start, so writers
    run one at a time on both engines and no lock of the line's own is needed.
    """
    if not case.batch_no:
        return []
    n, days = settings(case)
    others = _same_batch(case, days)
    window = rules.outbreak_window([t for _id, t in others], case.received_at, n, days)
    if not window:
        return []
    first, last = window[0], window[-1]
    return [case.id] + [cid for cid, t in others if first <= t <= last]


def incident_of(case_id: int) -> Incident | None:
    return db.session.scalar(
        sa.select(Incident)
        .join(IncidentCase, IncidentCase.incident_id == Incident.id)
        .where(IncidentCase.case_id == case_id)
    )


def _open_incident(case: CaseFacts) -> tuple[Incident, bool]:
    product_id = case.product.get("id")
    incident = db.session.scalar(
        sa.select(Incident).where(
            Incident.business_line_id == case.line.id,
            Incident.batch_no == case.batch_no,
            Incident.product_id == product_id if product_id else Incident.product_id.is_(None),
        )
    )
    if incident is not None:
        return incident, False
    incident = Incident(
        business_line_id=case.line.id, product_id=product_id, batch_no=case.batch_no
    )
    db.session.add(incident)
    db.session.flush()
    return incident, True


def group_outbreak(case: CaseFacts, actor) -> Incident | None:
    """Create or join the batch's incident with every case of the outbreak; alert on news."""
    if "batch_outbreak" not in case.major_reasons:
        return None
    members = [cid for cid in outbreak_members(case) if cid is not None]
    incident, created = _open_incident(case)
    linked = set(
        db.session.scalars(
            sa.select(IncidentCase.case_id).where(IncidentCase.incident_id == incident.id)
        )
    )
    elsewhere = {
        link.case_id: link
        for link in db.session.scalars(
            sa.select(IncidentCase).where(
                IncidentCase.case_id.in_(members), IncidentCase.incident_id != incident.id
            )
        )
    }
    new = []
    for cid in members:
        if cid in linked:
            continue
        link = elsewhere.get(cid)
        if link is None:
            db.session.add(IncidentCase(incident_id=incident.id, case_id=cid))
        elif cid == case.id:  # corrected to this batch: the case leaves its old batch's incident
            link.incident_id = incident.id
        else:  # an earlier case already counted in another incident stays there
            continue
        new.append(cid)
    db.session.flush()
    earlier = [cid for cid in new if cid != case.id]
    cases.refresh(actor, earlier)  # earlier cases become major too, and are escalated
    for cid in earlier:
        escalate(db.session.get(Case, cid))
    if created or new:
        _, days = settings(case)
        staff = line_staff(case.line.id, ALERTED_ROLES)
        params = {
            "incident": incident.id,
            "batch": case.batch_no,
            "product": case.product.get("name") or "",
            "count": len(linked) + len(new),
            "days": days,
        }
        message = (
            N_(
                "Batch outbreak: %(count)s complaints about batch %(batch)s %(product)s within %(days)s "
                "days; incident %(incident)s opened."
            )
            if created
            else N_(
                "Incident %(incident)s: now %(count)s complaints about batch %(batch)s %(product)s."
            )
        )
        notify(staff, "incident", message, params, link=f"/incidents/{incident.id}")
    return incident


def escalate(case: Case) -> None:
    """A case that has become major is escalated once to the line's management."""
    if not case.is_major or sent(case.id, "major_case"):
        return
    notify(
        line_staff(case.business_line_id, ALERTED_ROLES),
        "major_case",
        N_("Major complaint %(number)s: escalated to management and the mediation committee."),
        {"number": case.number},
        case=case,
        link=f"/cases/{case.id}",
    )


def visible_incidents(actor) -> list[Incident]:
    return list(
        db.session.scalars(
            sa.select(Incident)
            .where(line_filter(actor, Incident.business_line_id))
            .order_by(Incident.id.desc())
        )
    )


def visible_incident(actor, incident_id: int) -> Incident | None:
    return db.session.scalar(
        sa.select(Incident).where(
            Incident.id == incident_id, line_filter(actor, Incident.business_line_id)
        )
    )


def affected_quantity(case: Case) -> int:
    """The units a complaint is about: the category's affected quantity, else the quantity bought."""
    details = case.details or {}
    return (
        details.get("affected_quantity")
        or details.get("return_quantity")
        or case.quantity_purchased
        or 0
    )


def incident_json(incident: Incident) -> dict[str, Any]:
    rows = sorted((link.case for link in incident.links), key=lambda c: (c.received_at, c.id))
    return {
        "id": incident.id,
        "business_line": incident.business_line.code,
        "product": {"code": incident.product.code, "name": incident.product.name}
        if incident.product
        else None,
        "batch_no": incident.batch_no,
        "opened_at": iso_in_zone(incident.opened_at, incident.business_line.timezone),
        "affected_quantity": sum(affected_quantity(c) for c in rows),
        "cases": [
            {
                "id": c.id,
                "number": c.number,
                "status": c.status,
                "customer": c.customer.name,
                "affected_quantity": affected_quantity(c),
            }
            for c in rows
        ],
    }
