"""Audit events as sentences: one teller per action the core records, values by their labels.

``sentence(ctx, event)`` returns the sentence and its detail lines ("label: old → new"). A
plugin's own action is told by its ``kesu_audit_sentence`` hook; an action nobody knows gets
a generic sentence with the changed fields' labels — never raw JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import lazy_gettext as _l

from core.contracts import AuditFacts
from core.services.history_context import Context, join, new_value
from core.services.history_labels import (
    ENTITY_LABELS,
)
from core.timeutil import local_time
from core.vocab import DEADLINES
from core.workflow import ACTIONS

# -- the tellers: (ctx, event, who) -> (sentence, detail lines) ----------------------------------

Told = tuple[str, list[str]]


def _case_action(message) -> Callable:
    """A workflow action whose sentence names no value; the changes follow as details."""

    def tell(ctx: Context, event, who: str) -> Told:
        return str(message % {"who": who}), ctx.details(event)

    return tell


def _create(ctx: Context, event, who: str) -> Told:
    if event.entity == "case":
        category = ctx.value("case", "category", new_value(event, "category"))
        return str(
            _l("%(who)s registered the complaint (%(category)s)", who=who, category=category)
        ), []
    return _record(
        ctx,
        event,
        who,
        _l("%(who)s created %(entity)s “%(name)s”"),
        _l("%(who)s created %(entity)s"),
    )


def _record(ctx: Context, event, who: str, named, unnamed) -> Told:
    entity = str(
        ENTITY_LABELS.get(event.entity) or ctx.event_labels.get(event.entity, event.entity)
    )
    changes = event.changes or {}
    name = next(
        (
            v
            for k in ("name", "username", "code", "sku")
            for v in (changes.get(k) if isinstance(changes.get(k), list) else [changes.get(k)])
            if isinstance(v, str) and v
        ),
        None,
    )
    if event.entity == "business_line" and name is None and event.entity_id:
        name = ctx.line_name(event.entity_id)
    text = (
        named % {"who": who, "entity": entity, "name": name}
        if name
        else unnamed % {"who": who, "entity": entity}
    )
    return text, ctx.details(event)


def _update(ctx: Context, event, who: str) -> Told:
    if event.entity == "case":
        return str(_l("%(who)s edited the complaint", who=who)), ctx.details(event)
    return _record(
        ctx,
        event,
        who,
        _l("%(who)s changed %(entity)s “%(name)s”"),
        _l("%(who)s changed %(entity)s"),
    )


def _delete(ctx: Context, event, who: str) -> Told:
    text, _details = _record(
        ctx,
        event,
        who,
        _l("%(who)s deleted %(entity)s “%(name)s”"),
        _l("%(who)s deleted %(entity)s"),
    )
    return text, []


def _accept(ctx: Context, event, who: str) -> Told:
    if (event.changes or {}).get("override"):
        text = str(_l("%(who)s accepted the complaint, overriding the acceptance issues", who=who))
    else:
        text = str(_l("%(who)s accepted the complaint", who=who))
    return text, ctx.details(event, ("override",))


def _assign(ctx: Context, event, who: str) -> Told:
    changes = event.changes or {}
    department = ctx.value("case", "department_id", new_value(event, "department_id"))
    handler = new_value(event, "handler_id") if "handler_id" in changes else None
    if handler:
        text = str(
            _l(
                "%(who)s assigned the complaint to %(handler)s (%(department)s)",
                who=who,
                handler=ctx.value("case", "handler_id", handler),
                department=department,
            )
        )
    else:
        text = str(
            _l("%(who)s assigned the complaint to %(department)s", who=who, department=department)
        )
    return text, ctx.details(event, ("department_id", "handler_id"))


def _propose(ctx: Context, event, who: str) -> Told:
    lines = new_value(event, "compensation")
    if lines:
        text = str(
            _l("%(who)s proposed a solution: %(lines)s", who=who, lines=ctx.compensation(lines))
        )
    else:
        text = str(_l("%(who)s proposed a solution", who=who))
    return text, ctx.details(event, ("compensation",))


def _compensation(ctx: Context, event, who: str) -> Told:
    lines = new_value(event, "compensation")
    if lines:
        text = str(
            _l("%(who)s proposed compensation: %(lines)s", who=who, lines=ctx.compensation(lines))
        )
    else:
        text = str(_l("%(who)s removed the proposed compensation", who=who))
    return text, ctx.details(event, ("compensation",))


def _submit(ctx: Context, event, who: str) -> Told:
    steps = new_value(event, "approval_steps") or []
    if steps:
        shown = " → ".join(ctx.step(event.case_id, s) for s in steps)
        text = str(
            _l("%(who)s submitted the proposal for approval: %(steps)s", who=who, steps=shown)
        )
    else:
        text = str(_l("%(who)s submitted the proposal; it needs no approval", who=who))
    return text, ctx.details(event, ("approval_steps",))


def _decision(message) -> Callable:
    def tell(ctx: Context, event, who: str) -> Told:
        step = ctx.step(event.case_id, (event.changes or {}).get("step"))
        return str(message % {"who": who, "step": step}), ctx.details(event, ("step",))

    return tell


def _verify(ctx: Context, event, who: str) -> Told:
    if new_value(event, "effective") is False:
        text = str(
            _l(
                "%(who)s found the corrective action not effective; the investigation starts again",
                who=who,
            )
        )
    else:
        text = str(_l("%(who)s verified the corrective action as effective", who=who))
    return text, ctx.details(event, ("effective", "verified_effective"))


def _resume(ctx: Context, event, who: str) -> Told:
    minutes = (event.changes or {}).get("hold_minutes")
    text = str(
        _l("%(who)s resumed the complaint (%(n)s working minutes on hold)", who=who, n=minutes or 0)
    )
    return text, ctx.details(event, ("hold_minutes",))


def _priority(ctx: Context, event, who: str) -> Told:
    new = new_value(event, "priority_override")
    if new:
        text = str(
            _l(
                "%(who)s set the priority to %(priority)s by hand",
                who=who,
                priority=ctx.value("case", "priority", new),
            )
        )
    else:
        text = str(_l("%(who)s removed the priority set by hand", who=who))
    return text, ctx.details(event, ("priority_override",))


def _upload(ctx: Context, event, who: str) -> Told:
    kind = ctx.value("evidence", "kind", new_value(event, "kind"))
    text = str(
        _l(
            "%(who)s uploaded %(kind)s “%(file)s”",
            who=who,
            kind=kind,
            file=new_value(event, "filename") or "",
        )
    )
    details = ctx.details(event, ("kind", "filename", "acceptance_issues"))
    change = (event.changes or {}).get("acceptance_issues")
    if isinstance(change, list) and len(change) == 2:
        after = change[1] or []
        if after:
            details.append(
                str(
                    _l(
                        "Acceptance check not passed: %(issues)s",
                        issues=ctx.issues(after, event.case_id),
                    )
                )
            )
        else:
            details.append(str(_l("Acceptance check passed")))
    return text, details


def _visit(ctx: Context, event, who: str) -> Told:
    changes = event.changes or {}
    text = str(
        _l(
            "%(who)s recorded a return visit (%(channel)s), satisfaction %(score)s",
            who=who,
            channel=ctx.value("case_visit", "channel", changes.get("channel")),
            score=changes.get("satisfaction", "—"),
        )
    )
    return text, ctx.details(event, ("channel", "satisfaction"))


def _line_done(message) -> Callable:
    def tell(ctx: Context, event, who: str) -> Told:
        changes = event.changes or {}
        kind = ctx.value("compensation_line", "kind", changes.get("kind"))
        return str(message % {"who": who, "kind": kind}), ctx.details(
            event, ("kind", "exec_status", "line")
        )

    return tell


def _export(message) -> Callable:
    def tell(ctx: Context, event, who: str) -> Told:
        changes = event.changes or {}
        shown = {
            "who": who,
            "number": changes.get("number", ""),
            "kind": ctx.value("export_batch", "kind", changes.get("kind")),
        }
        return str(message % shown), ctx.details(event, ("number", "kind", "lines", "released"))

    return tell


def _list_export(ctx: Context, event, who: str) -> Told:
    rows = (event.changes or {}).get("rows", "")
    text = {
        "ledger": _l("%(who)s exported the ledger to Excel (%(rows)s rows)"),
        "capa_register": _l("%(who)s exported the corrective actions to Excel (%(rows)s rows)"),
    }.get(event.entity, _l("%(who)s exported the complaint list to Excel (%(rows)s rows)"))
    return str(text % {"who": who, "rows": rows}), ctx.details(event, ("filters", "rows", "locale"))


def _line_event(message) -> Callable:
    def tell(ctx: Context, event, who: str) -> Told:
        changes = event.changes or {}
        plugins = changes.get("plugins")
        added = set()
        if isinstance(plugins, list) and len(plugins) == 2:
            added = set(plugins[0] or []) ^ set(plugins[1] or [])
        shown = {
            "who": who,
            "line": ctx.line_name(event.entity_id),
            "plugin": join(ctx.categories.get(k, k) for k in sorted(added)),
            "n": changes.get("escalated", ""),
        }
        skip = ("plugins", "escalated") if event.action != "settings" else ()
        return str(message % shown), ctx.details(event, skip)

    return tell


TELLERS: dict[str, Callable[[Context, Any, str], Told]] = {
    "create": _create,
    "update": _update,
    "delete": _delete,
    "accept": _accept,
    "reject": _case_action(_l("%(who)s did not accept the complaint")),
    "assign": _assign,
    "propose": _propose,
    "submit": _submit,
    "approve": _decision(_l("%(who)s approved (%(step)s)")),
    "refuse": _decision(_l("%(who)s refused the proposal (%(step)s)")),
    "execute": _case_action(_l("%(who)s marked the compensation executed")),
    "confirm": _case_action(_l("%(who)s recorded that the customer confirmed")),
    "verify": _verify,
    "close": _case_action(_l("%(who)s closed the complaint")),
    "reopen": _case_action(_l("%(who)s reopened the complaint")),
    "hold": _case_action(_l("%(who)s put the complaint on hold to wait for the customer")),
    "resume": _resume,
    "priority": _priority,
    "compensation": _compensation,
    "recompute": _case_action(_l("The complaint was re-evaluated after a change by %(who)s")),
    "upload": _upload,
    "visit": _visit,
    "visit_dismissed": _case_action(_l("%(who)s dismissed the request to reopen")),
    "compensation_done": _line_done(_l("%(who)s carried out the compensation: %(kind)s")),
    "compensation_cancelled": _line_done(_l("%(who)s cancelled the compensation: %(kind)s")),
    "export_created": _export(_l("%(who)s created finance export %(number)s (%(kind)s)")),
    "export_downloaded": _export(_l("%(who)s downloaded finance export %(number)s (%(kind)s)")),
    "export_voided": _export(_l("%(who)s voided finance export %(number)s")),
    "export": _list_export,
    "plugin_enable": _line_event(_l("%(who)s enabled %(plugin)s on %(line)s")),
    "plugin_disable": _line_event(_l("%(who)s disabled %(plugin)s on %(line)s")),
    "settings": _line_event(_l("%(who)s changed the settings of %(line)s")),
    "calendar": _line_event(_l("%(who)s changed the working calendar of %(line)s")),
    "calendar_seed": _line_event(_l("%(who)s filled in the working calendar of %(line)s")),
    "sweep": _line_event(_l("%(who)s escalated %(n)s overdue complaints on %(line)s")),
    "archive": _case_action(_l("%(who)s archived the complaint")),
    "root_cause_add": _line_event(_l("%(who)s added a root cause to the catalogue of %(line)s")),
    "root_cause_change": _line_event(
        _l("%(who)s changed a root cause in the catalogue of %(line)s")
    ),
}

ACTION_LABELS = {
    "create": _l("Created"),
    "update": _l("Edited"),
    "delete": _l("Deleted"),
    **{name: action.label for name, action in ACTIONS.items()},
    "priority": _l("Priority changed by hand"),
    "compensation": _l("Compensation changed"),
    "recompute": _l("Re-evaluated"),
    "upload": _l("Evidence uploaded"),
    "visit": _l("Return visit"),
    "visit_dismissed": _l("Reopen request dismissed"),
    "compensation_done": _l("Compensation carried out"),
    "compensation_cancelled": _l("Compensation cancelled"),
    "export_created": _l("Finance export created"),
    "export_downloaded": _l("Finance export downloaded"),
    "export_voided": _l("Finance export voided"),
    "export": _l("Complaint list exported"),
    "plugin_enable": _l("Plugin enabled"),
    "plugin_disable": _l("Plugin disabled"),
    "settings": _l("Settings changed"),
    "calendar": _l("Working calendar changed"),
    "calendar_seed": _l("Working calendar filled in"),
    "sweep": _l("Overdue complaints escalated"),
    "archive": _l("Archived"),
    "root_cause_add": _l("Root cause added"),
    "root_cause_change": _l("Root cause changed"),
}
assert set(ACTION_LABELS) == set(TELLERS)


def action_labels(plugin_labels: dict) -> dict:
    """Labels of every audit action: the plugins' (from ``kesu_event_labels``) and the core's."""
    return {**{k: v for k, v in plugin_labels.items() if k not in DEADLINES}, **ACTION_LABELS}


def sentence(ctx: Context, event) -> Told:
    """The event told in the reader's language, and its detail lines."""
    who = ctx.who(event)
    teller = TELLERS.get(event.action)
    if teller is not None:
        return teller(ctx, event, who)
    from core.services.lines import registry

    facts = AuditFacts(
        action=event.action,
        entity=event.entity,
        entity_id=event.entity_id,
        case_id=event.case_id,
        who=who,
        when=local_time(event.at, ctx.tz),
        changes=dict(event.changes or {}),
    )
    told = registry().pm.hook.kesu_audit_sentence(event=facts)
    if told:
        return str(told), []
    details = ctx.details(event)
    label = ctx.event_labels.get(event.action)
    if label:
        return str(_l("%(who)s: %(action)s", who=who, action=label)), details
    entity = ENTITY_LABELS.get(event.entity) or ctx.event_labels.get(event.entity)
    if entity:
        return str(_l("%(who)s changed %(entity)s", who=who, entity=entity)), details
    return str(_l("%(who)s changed a record", who=who)), details
