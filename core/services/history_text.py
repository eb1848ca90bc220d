"""Audit events as sentences: one teller per action the core records, values by their labels.

``sentence(ctx, event)`` returns the sentence and its detail lines ("label: old → new"). A
plugin's own action is told by its ``kesu_audit_sentence`` hook; an action nobody knows gets
a generic sentence with the changed fields' labels — never raw JSON.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l

from core.contracts import AuditFacts
from core.i18n import join_list, translated
from core.roles import role_label
from core.services.history_labels import (
    CONTACT_FIELDS,
    ENTITY_LABELS,
    FIELD_LABELS,
    HIDDEN_FIELDS,
    MONEY_FIELDS,
    value_labels,
)
from core.services.present import mask_email, mask_phone
from core.timeutil import local_time
from core.vocab import COMPENSATION_KINDS, DEADLINES, POSITIONS, position_label
from core.workflow import ACTIONS

ISO_MOMENT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?([+-]\d\d:\d\d|Z)?$")
COUNTED = frozenset({"approved_lines", "lines", "released", "visits_reopened"})
LISTS = COUNTED | {"to", "deadlines_restarted", "added", "roles", "plugins", "business_lines"}
NAMED = {  # recorded id fields shown by the name of their record
    "business_line_id",
    "customer_id",
    "product_id",
    "department_id",
}


@dataclass
class Context:
    """What one page of events refers to (loaded by ``core.services.history.context``)."""

    tz: str
    users: dict[int, str] = field(default_factory=dict)
    by_username: dict[str, str] = field(default_factory=dict)
    names: dict[tuple[str, int], str] = field(default_factory=dict)
    fields: dict[int, dict] = field(default_factory=dict)
    step_roles: dict[tuple[int, str], str] = field(default_factory=dict)
    event_labels: dict = field(default_factory=dict)
    categories: dict[str, str] = field(default_factory=dict)
    contact: bool = False
    numbers: dict[int, str] = field(default_factory=dict)

    # -- people and names ---------------------------------------------------------------------

    def who(self, event) -> str:
        if event.actor_id and event.actor_id in self.users:
            return self.users[event.actor_id]
        if event.actor_id is None and event.actor in ("system", None, ""):
            return str(_l("The system"))
        return self.by_username.get(event.actor, event.actor)

    def person(self, username: Any) -> str:
        return self.by_username.get(username, str(username))

    def line_name(self, line_id: int | None) -> str:
        return self.names.get(("business_line_id", line_id), "—")

    def step(self, case_id: int | None, step: Any) -> str:
        if step in POSITIONS:
            return str(POSITIONS[step])
        role = self.step_roles.get((case_id, step))
        return position_label(role) if role else str(step)

    # -- values -------------------------------------------------------------------------------

    def label(self, key: str, case_id: int | None = None) -> str:
        spec = self.fields.get(case_id, {}).get(key)
        if spec is not None:
            return str(spec.label)
        if key in FIELD_LABELS:
            return str(FIELD_LABELS[key])
        if key in self.event_labels:
            return str(self.event_labels[key])
        if "." in key:  # a plugin setting: "<plugin>.<setting>"
            plugin, _, setting = key.partition(".")
            return f"{self.categories.get(plugin, plugin)} · {setting}"
        return key

    def value(self, entity: str, key: str, value: Any, case_id: int | None = None) -> str:
        if value is None or value in ("", [], {}):
            return "—"
        if key in CONTACT_FIELDS and isinstance(value, str) and not self.contact:
            return (mask_phone if key == "phone" else mask_email)(value) or "—"
        if key in NAMED and isinstance(value, int):
            return self.names.get((key, value), str(value))
        if key == "handler_id" and isinstance(value, int):
            return self.users.get(value, str(value))
        if key in ("to", "user") and isinstance(value, str):
            return self.person(value)
        if key == "category" and isinstance(value, str):
            return self.categories.get(value, value)
        if key == "step":
            return self.step(case_id, value)
        if key in COUNTED and isinstance(value, list):
            return str(len(value))
        if key in ("compensation", "lines") and isinstance(value, list) and value:
            if isinstance(value[0], dict):
                return self.compensation(value)
        if key == "acceptance_issues" and isinstance(value, list):
            return self.issues(value, case_id)
        if key == "roles" and isinstance(value, list):
            return join(role_label(str(v)) for v in value)
        if key == "major_reasons" and isinstance(value, list):
            return join(
                str(self.event_labels[v]) if v in self.event_labels else translated(str(v)) or ""
                for v in value
            )
        if isinstance(value, bool):
            return str(_l("Yes") if value else _l("No"))
        if key in MONEY_FIELDS:
            return money(value)
        spec = self.fields.get(case_id, {}).get(key)
        if spec is not None and spec.type == "choice" and isinstance(value, str):
            return str(dict(spec.choices).get(value, value))
        labels = value_labels(entity, key)
        if labels and isinstance(value, str):
            return str(labels.get(value, self.event_labels.get(value, value)))
        if key in ("deadlines", "details", "credit_due") and isinstance(value, dict):
            return "; ".join(
                f"{self.label(k, case_id) if key != 'deadlines' else self.deadline(k)}: "
                f"{self.value(entity, k, v, case_id)}"
                for k, v in value.items()
            )
        if key == "deadlines_restarted" and isinstance(value, list):
            return ", ".join(self.deadline(v) for v in value)
        if isinstance(value, str) and ISO_MOMENT.match(value):
            return local_time(value, self.tz)
        if isinstance(value, dict):
            return "; ".join(
                f"{self.label(k, case_id)}: {self.value(entity, k, v, case_id)}"
                for k, v in value.items()
            )
        if isinstance(value, list):
            return ", ".join(self.value(entity, key, v, case_id) for v in value)
        return translated(str(value)) if key in ("note",) else str(value)

    def deadline(self, name: Any) -> str:
        return str(DEADLINES.get(name) or self.event_labels.get(name) or name)

    def compensation(self, lines: list) -> str:
        """Proposed lines as one phrase: 补发 2 件、退款 ¥300.00，合计 ¥300.00."""
        parts, total = [], Decimal(0)
        for line in lines:
            if not isinstance(line, dict):
                continue
            kind = str(COMPENSATION_KINDS.get(line.get("kind"), line.get("kind")))
            amount = _decimal(line.get("amount"))
            total += amount
            if line.get("quantity"):
                text = str(_l("%(kind)s %(n)s pcs", kind=kind, n=line["quantity"]))
                if amount:
                    text += f" {money(amount)}"
            else:
                text = f"{kind} {money(amount)}"
            parts.append(text)
        return str(_l("%(lines)s; total %(total)s", lines=join(parts), total=money(total)))

    def issues(self, issues: list, case_id: int | None) -> str:
        if not issues:
            return str(_l("none"))
        return join(self.issue(i, case_id) for i in issues if isinstance(i, dict))

    def issue(self, issue: dict, case_id: int | None) -> str:
        message = translated(issue.get("message"), issue.get("params")) or ""
        where = issue.get("field")
        if not where:
            return message
        spec_label = self.label(where, case_id)
        if spec_label == where:
            spec_label = self.value("evidence", "kind", where)
        return str(_l("%(message)s (%(field)s)", message=message, field=spec_label))

    def change(self, entity: str, key: str, change: Any, case_id: int | None) -> str:
        """One detail line: "label: old → new", or "label: value" for a single value."""
        label = self.label(key, case_id)
        if isinstance(change, list) and len(change) == 2 and not _is_list(key, change):
            old, new = (self.value(entity, key, v, case_id) for v in change)
            if old == new:
                return ""
            return pair(label, new if old == "—" else f"{old} → {new}")
        shown = self.value(entity, key, change, case_id)
        return "" if shown == "—" else pair(label, shown)

    def details(self, event, skip: tuple[str, ...] = ()) -> list[str]:
        """The event's recorded changes as detail lines, but for ``skip``; the category fields
        and the deadlines one line each."""
        out = []
        for key, change in (event.changes or {}).items():
            if key in skip or key in HIDDEN_FIELDS:
                continue
            if key in ("details", "deadlines") and _dict_pair(change):
                before, after = change[0] or {}, change[1] or {}
                for sub in sorted(set(before) | set(after), key=str):
                    if before.get(sub) == after.get(sub):
                        continue
                    old = self.value(event.entity, sub, before.get(sub), event.case_id)
                    new = self.value(event.entity, sub, after.get(sub), event.case_id)
                    label = (
                        self.deadline(sub) if key == "deadlines" else self.label(sub, event.case_id)
                    )
                    out.append(pair(label, new if old == "—" else f"{old} → {new}"))
                continue
            if line := self.change(event.entity, key, change, event.case_id):
                out.append(line)
        return out


def _dict_pair(change: Any) -> bool:
    return (
        isinstance(change, list)
        and len(change) == 2
        and all(isinstance(v, dict) or v is None for v in change)
    )


def _is_list(key: str, change: list) -> bool:
    """Whether a two-item value is a list of its own (not an old/new pair)."""
    if key in COUNTED or key in ("to", "deadlines_restarted", "added"):
        return True
    return key in LISTS and not all(isinstance(v, list) or v is None for v in change)


def pair(label: str, text: str) -> str:
    """A detail line: "label: text" with the reader's punctuation."""
    return str(_l("%(label)s: %(value)s", label=label, value=text))


def money(value: Any) -> str:
    amount = _decimal(value)
    return f"¥{amount:,.2f}"


def _decimal(value: Any) -> Decimal:
    try:
        return Decimal(str(value)) if value not in (None, "") else Decimal(0)
    except (InvalidOperation, ValueError):
        return Decimal(0)


def join(parts) -> str:
    """Items of a list as the reader's language joins them (、 in Chinese)."""
    return join_list(parts)


def _new(event, key: str) -> Any:
    change = (event.changes or {}).get(key)
    return change[1] if isinstance(change, list) and len(change) == 2 else change


# -- the tellers: (ctx, event, who) -> (sentence, detail lines) ----------------------------------

Told = tuple[str, list[str]]


def _case_action(message) -> Callable:
    """A workflow action whose sentence names no value; the changes follow as details."""

    def tell(ctx: Context, event, who: str) -> Told:
        return str(message % {"who": who}), ctx.details(event)

    return tell


def _create(ctx: Context, event, who: str) -> Told:
    if event.entity == "case":
        category = ctx.value("case", "category", _new(event, "category"))
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
    department = ctx.value("case", "department_id", _new(event, "department_id"))
    handler = _new(event, "handler_id") if "handler_id" in changes else None
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
    lines = _new(event, "compensation")
    if lines:
        text = str(
            _l("%(who)s proposed a solution: %(lines)s", who=who, lines=ctx.compensation(lines))
        )
    else:
        text = str(_l("%(who)s proposed a solution", who=who))
    return text, ctx.details(event, ("compensation",))


def _compensation(ctx: Context, event, who: str) -> Told:
    lines = _new(event, "compensation")
    if lines:
        text = str(
            _l("%(who)s proposed compensation: %(lines)s", who=who, lines=ctx.compensation(lines))
        )
    else:
        text = str(_l("%(who)s removed the proposed compensation", who=who))
    return text, ctx.details(event, ("compensation",))


def _submit(ctx: Context, event, who: str) -> Told:
    steps = _new(event, "approval_steps") or []
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
    if _new(event, "effective") is False:
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
    new = _new(event, "priority_override")
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
    kind = ctx.value("evidence", "kind", _new(event, "kind"))
    text = str(
        _l(
            "%(who)s uploaded %(kind)s “%(file)s”",
            who=who,
            kind=kind,
            file=_new(event, "filename") or "",
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
    text = _l("%(who)s exported the complaint list to Excel (%(rows)s rows)")
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
