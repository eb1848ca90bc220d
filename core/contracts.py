"""Plain data exchanged between the core and plugins.

Everything here is a frozen dataclass of plain values: plugins receive facts and return
descriptions, never ORM objects or a database session. That keeps each plugin's
``rules.py`` testable without Flask.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from core import limits

FIELD_TYPES = ("string", "text", "integer", "decimal", "boolean", "date", "datetime", "choice")
# The stage a field is asked at: "registration" fields are on the intake form; a field of a
# later stage (e.g. "investigating") is filled on the case's edit page and by that stage's API.
REGISTRATION = "registration"


@dataclass(frozen=True)
class PluginDescriptor:
    """What an admin sees of a plugin: its key, names, version and dependencies.

    ``category`` is true for a complaint category (it appears in intake); false for a
    cross-cutting plugin (such as major-incident detection) whose hooks run on every case.
    """

    key: str
    name_zh: str
    name_en: str
    version: str
    description_zh: str = ""
    description_en: str = ""
    depends: tuple[str, ...] = ()
    category: bool = True

    def name(self, locale: str | None) -> str:
        return self.name_en if (locale or "").startswith("en") else self.name_zh

    def description(self, locale: str | None) -> str:
        return self.description_en if (locale or "").startswith("en") else self.description_zh


@dataclass(frozen=True)
class FieldSpec:
    """A case field a plugin adds; it becomes a form field and a key of the API's ``details``.

    ``label`` may be a lazy translation string. ``choices`` is a sequence of
    ``(value, label)`` pairs for ``type == "choice"``. ``stage`` is when the field is asked:
    ``"registration"`` (the default) puts it on the intake form; another workflow stage (e.g.
    ``"investigating"``) keeps it off intake, editable on the case page at that stage.
    """

    name: str
    type: str
    label: Any
    required: bool = False
    choices: tuple[tuple[str, Any], ...] = ()
    help: Any = ""
    min_value: Decimal | int | None = None
    max_length: int | None = None  # string and text; default and ceiling in core/limits.py
    max_value: Decimal | int | None = None  # integer and decimal; default in core/limits.py
    max_days_ahead: int | None = None  # date and datetime: latest = today + this (default 1)
    stage: str = REGISTRATION

    def __post_init__(self) -> None:
        if not isinstance(self.stage, str) or not self.stage:
            raise ValueError(f"field {self.name!r}: stage must be a stage name")
        if self.type not in FIELD_TYPES:
            raise ValueError(f"field {self.name!r}: unknown type {self.type!r}")
        if self.type == "choice" and not self.choices:
            raise ValueError(f"field {self.name!r}: a choice field needs choices")
        ceiling = limits.CEILING_LENGTH.get(self.type)
        if self.max_length is not None and not (ceiling and 0 < self.max_length <= ceiling):
            raise ValueError(f"field {self.name!r}: max_length must be 1..{ceiling}")
        top = limits.CEILING_VALUE.get(self.type)
        if self.max_value is not None and not (top is not None and self.max_value <= top):
            raise ValueError(f"field {self.name!r}: max_value must be at most {top}")
        ahead = self.max_days_ahead
        if ahead is not None and not (
            self.type in ("date", "datetime") and 0 <= ahead <= limits.MAX_DAYS_AHEAD
        ):
            raise ValueError(
                f"field {self.name!r}: max_days_ahead must be 0..{limits.MAX_DAYS_AHEAD}"
            )


@dataclass(frozen=True)
class AcceptanceIssue:
    """One reason a case cannot be accepted as registered (``code``, optional ``field``)."""

    code: str
    message: str
    field: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The stored form: the message as its msgid (and variables), translated when read."""
        from core.i18n import msgid_of

        msgid, params = msgid_of(self.message)
        out: dict[str, Any] = {"code": self.code, "message": msgid}
        if params:
            out["params"] = params
        if self.field:
            out["field"] = self.field
        return out


@dataclass(frozen=True)
class Problem:
    """A failed precondition of a workflow action (answered with HTTP 422)."""

    code: str
    message: str
    field: str | None = None


GOODS_KINDS = frozenset({"reship", "free_goods"})
# Money the company collects rather than gives: freight the customer pays, a cost charged to the
# person responsible. Such lines are part of the proposal but not of its compensation total.
CHARGE_KINDS = frozenset({"freight_to_customer", "charge_responsible_person"})


def compensation_total(lines) -> Decimal:
    """What the proposal gives the customer: the amounts of its lines that are neither charges
    (``CHARGE_KINDS``) nor cancelled. Weighed against approval thresholds and shown as 合计."""
    return sum(
        (
            Decimal(line.amount)
            for line in lines
            if line.kind not in CHARGE_KINDS and getattr(line, "exec_status", None) != "cancelled"
        ),
        Decimal("0.00"),
    )


@dataclass(frozen=True)
class ProposalLine:
    """One proposed compensation line; ``amount`` is in CNY.

    For goods (``reship``, ``free_goods``) the amount is quantity × unit price: build those
    lines with :meth:`goods`.
    """

    kind: str
    amount: Decimal = Decimal("0")
    quantity: int | None = None
    unit_price: Decimal | None = None
    sku: str | None = None
    batch_no: str | None = None
    note: str = ""

    @classmethod
    def goods(cls, kind: str, quantity: int, unit_price: Decimal, **kw: Any) -> ProposalLine:
        """A goods line worth ``quantity × unit_price``, rounded to the fen."""
        amount = (Decimal(quantity) * unit_price).quantize(Decimal("0.01"))
        return cls(kind=kind, amount=amount, quantity=quantity, unit_price=unit_price, **kw)


@dataclass(frozen=True)
class Proposal:
    """A proposal with a remark for staff and customer (e.g. "the customer claims from the
    carrier"). ``note`` is a msgid (mark it with ``core.services.notifications.N_``); it is
    translated for each reader."""

    lines: tuple[ProposalLine, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class ApprovalStepSpec:
    """A sign-off a proposal needs.

    ``step`` names it; ``positions`` are the positions (e.g. ``marketing_director``) whose
    holders on the case's business line may decide it — any one of them.
    """

    step: str
    positions: tuple[str, ...]

    @property
    def role(self) -> str:
        """The positions as stored and shown: alternatives separated by ``|``."""
        return "|".join(self.positions)


@dataclass(frozen=True)
class RootCauseSpec:
    """A root-cause catalogue entry a plugin contributes (``kesu_root_causes``): stored on a
    line as ``<plugin key>.<code>`` under the top-level entry ``parent`` (a code of the core's
    defaults, e.g. ``process``; ``other`` when the line has no such entry)."""

    code: str
    parent: str
    name: Any  # a lazy translation, written in the line's language


@dataclass(frozen=True)
class CapaRow:
    """One corrective or preventive action (纠正与预防措施) of a case, as the CAPA register
    shows it (``kesu_capa_actions``). Its owner is the case's responsible department."""

    plugin: str
    id: int
    case_id: int
    case_number: str
    business_line_id: int
    department_id: int | None
    kind: str  # "corrective" or "preventive"
    description: str
    responsible_unit: str
    due_date: dt.date
    done_at: dt.datetime | None
    # Still open after its due day (the line's time zone), and done after its due day.
    overdue: bool
    done_late: bool
    # QA's verification of the case's actions: effective, not effective, or not verified yet.
    effective: bool | None

    @property
    def status(self) -> str:
        if self.done_at is None:
            return "open"
        if self.effective is None:
            return "done"
        return "effective" if self.effective else "ineffective"


@dataclass(frozen=True)
class PriorityReason:
    """A reason for a priority: ``priority`` is ``P1``, ``P2`` or ``P3``."""

    priority: str
    code: str


@dataclass(frozen=True)
class LineFacts:
    """A business line as plugins see it: the core's settings (``settings``) and those of
    the plugins enabled on it (``plugin_settings[<key>]``)."""

    id: int
    code: str
    name: str
    timezone: str
    enabled_plugins: frozenset[str] = frozenset()
    plugin_settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CaseFacts:
    """A case as plugins see it: every value a rule may need, and nothing live."""

    id: int | None
    number: str | None
    line: LineFacts
    category: str
    channel: str | None
    status: str
    priority: str | None
    customer: dict[str, Any]
    product: dict[str, Any]
    batch_no: str | None
    quantity_purchased: int | None
    purchase_date: dt.date | None
    goods_received_at: dt.datetime | None
    received_at: dt.datetime
    description: str
    demand: str | None
    claim_amount: Decimal | None
    details: dict[str, Any]
    evidence_kinds: frozenset[str] = frozenset()
    compensation: tuple[ProposalLine, ...] = ()
    root_cause: str | None = None
    held_from: str | None = None
    department: str | None = None
    is_major: bool = False
    major_reasons: tuple[str, ...] = ()
    stage_times: dict[str, dt.datetime] = field(default_factory=dict)
    verified_effective: bool | None = None

    def local_date(self, value: dt.datetime | None) -> dt.date | None:
        """The calendar day of a moment in the business line's timezone."""
        return None if value is None else value.astimezone(ZoneInfo(self.line.timezone)).date()

    @property
    def received_on(self) -> dt.date:
        """The day the complaint was received, in the line's timezone."""
        return self.local_date(self.received_at)

    @property
    def goods_received_on(self) -> dt.date | None:
        """The day the goods were received, in the line's timezone."""
        return self.local_date(self.goods_received_at)

    def has_evidence(self, *kinds: str) -> bool:
        """Whether evidence of any of ``kinds`` was uploaded."""
        return bool(self.evidence_kinds & set(kinds))


@dataclass(frozen=True)
class CaseEvent:
    """What just happened to a case: an action (or ``create`` / ``update``) and its outcome."""

    action: str
    old_status: str | None
    new_status: str
    actor: str
    payload: dict[str, Any] = field(default_factory=dict)
    actor_id: int | None = None  # None for the shell


@dataclass(frozen=True)
class Panel:
    """A section a plugin adds to the case page: a title, a template and its context."""

    title: Any
    template: str
    context: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ViewSpec:
    """A screen a plugin hands to the core for registration.

    ``view`` is a Flask-AppBuilder view class (or instance). ``name`` is the menu name; a view
    with ``menu=False`` is registered without a menu entry.
    """

    view: Any
    name: str
    label: Any = None
    category: str = ""
    category_label: Any = None
    icon: str = ""
    menu: bool = True


@dataclass(frozen=True)
class WorkRow:
    """One item of a user's work list (我的工作): a case (or a thing of a case) to act on.

    ``due`` is an aware datetime (UTC) or a date (a due day); ``overdue`` flags it as late.
    ``link`` is where the row leads (the case page, or the screen that does the work).
    """

    number: str
    title: str
    link: str
    due: dt.datetime | dt.date | None = None
    overdue: bool = False
    note: str = ""


@dataclass(frozen=True)
class WorkSection:
    """A section of a user's work list: a title, its rows, optionally a link to its screen.

    ``counted`` sections add their rows to the count shown in the menu; a section of links only
    (e.g. the auditor's tools) sets it false.
    """

    key: str
    title: Any
    rows: tuple[WorkRow, ...] = ()
    link: str | None = None
    link_label: Any = None
    counted: bool = True

    @property
    def count(self) -> int:
        return len(self.rows)


@dataclass(frozen=True)
class AuditFacts:
    """One audit event as the history shows it, for ``kesu_audit_sentence``.

    ``who`` is the actor's display name (or the word for the system) in the reader's language;
    ``changes`` is the event's recorded JSON (values as stored: codes, ISO times, amounts as
    text). ``when`` is the event's time as the reader reads it.
    """

    action: str
    entity: str
    entity_id: int | None
    case_id: int | None
    who: str
    when: str
    changes: dict[str, Any] = field(default_factory=dict)
