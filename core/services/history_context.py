"""What the history's sentences refer to: the page's people, names and labels (``Context``), and
how one recorded value is shown (labels, local times, money, masked contact data)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l

from core.i18n import join_list, translated
from core.roles import role_label
from core.services.history_labels import (
    CONTACT_FIELDS,
    FIELD_LABELS,
    HIDDEN_FIELDS,
    MONEY_FIELDS,
    value_labels,
)
from core.services.present import mask_email, mask_phone
from core.settings import SETTING_LABELS
from core.timeutil import local_time
from core.vocab import COMPENSATION_KINDS, DEADLINES, POSITIONS, position_label

ISO_MOMENT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?([+-]\d\d:\d\d|Z)?$")
COUNTED = frozenset({"approved_lines", "lines", "released", "visits_reopened"})
LISTS = COUNTED | {"to", "deadlines_restarted", "added", "roles", "plugins", "business_lines"}
NAMED = {  # recorded id fields shown by the name of their record
    "business_line_id",
    "customer_id",
    "product_id",
    "department_id",
    "root_cause_id",
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
            from core.services.lines import CORE_KEY, setting_labels

            labels = SETTING_LABELS if plugin == CORE_KEY else setting_labels(plugin)
            owner = _l("Core settings") if plugin == CORE_KEY else self.categories.get(plugin)
            return f"{owner or plugin} · {labels.get(setting, setting)}"
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
        if key == "credit_due" and isinstance(value, dict):
            lines = value.get("lines")
            return str(
                _l(
                    "%(date)s (%(n)s line(s))",
                    date=value.get("on") or "—",
                    n=len(lines) if isinstance(lines, list) else 0,
                )
            )
        if key in ("deadlines", "details") and isinstance(value, dict):
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


def new_value(event, key: str) -> Any:
    change = (event.changes or {}).get(key)
    return change[1] if isinstance(change, list) and len(change) == 2 else change
