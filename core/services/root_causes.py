"""The root-cause catalogue (原因分类) of each business line: seeded, edited by an admin, chosen
when a case's root cause is recorded.

Two levels: a top-level entry (原材料) and its entries (批次不合格). A new line gets the
defaults below in its own language, and every plugin enabled on it adds what it contributes
(``kesu_root_causes``) under the top-level entry it names. The names are the line's data from
then on: an admin renames, adds and switches entries off; nothing is deleted, because cases and
past reports point at them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from core.contracts import RootCauseSpec
from core.db import write_transaction
from core.extensions import db
from core.inputs import ascii_int, is_id
from core.models import BusinessLine, RootCause
from core.services import audit
from core.services.access import require
from core.services.errors import Invalid, NotFound, invalid_if

PLUGINS_VIEW = "Plugins"  # the line configuration permission (core.services.lines)
CAN_CONFIGURE = "can_configure"
NAME_MAX = 128

# The defaults (DOMAIN.md section 9 and the procedures it distils): code, 中文, English,
# then the second level the same way. Data for a new line, written in the line's language.
DEFAULTS: tuple[tuple[str, str, str, tuple[tuple[str, str, str], ...]], ...] = (
    (
        "material",
        "原材料",
        "Raw material",
        (
            ("batch_defect", "批次不合格", "Batch out of specification"),
            ("supplier_change", "供应商变更", "Supplier change"),
        ),
    ),
    (
        "process",
        "生产工艺",
        "Production process",
        (
            ("parameter", "工艺参数偏差", "Process parameter deviation"),
            ("operation", "操作失误", "Operator error"),
            ("equipment", "设备故障", "Equipment failure"),
        ),
    ),
    (
        "packaging",
        "包装",
        "Packaging",
        (
            ("damage", "包装破损", "Damaged packaging"),
            ("labelling", "标签标识错误", "Wrong label or marking"),
        ),
    ),
    (
        "storage",
        "仓储",
        "Storage",
        (
            ("condition", "储存条件不当", "Unsuitable storage conditions"),
            ("picking", "拣货发货差错", "Picking or dispatch error"),
        ),
    ),
    (
        "transport",
        "运输",
        "Transport",
        (
            ("handling", "野蛮装卸", "Rough handling"),
            ("delay", "运输延误", "Delivery delay"),
            ("loss", "丢失少件", "Lost or missing items"),
        ),
    ),
    (
        "service",
        "服务态度",
        "Service",
        (
            ("attitude", "服务态度差", "Poor attitude"),
            ("response", "响应不及时", "Slow response"),
        ),
    ),
    (
        "policy",
        "政策理解",
        "Policy",
        (
            ("misunderstanding", "政策理解偏差", "Policy misunderstood"),
            ("promotion_change", "促销政策变更", "Promotion changed"),
        ),
    ),
    (
        "customer",
        "客户原因",
        "Customer",
        (
            ("misuse", "使用不当", "Improper use"),
            ("malicious", "恶意投诉", "Malicious complaint"),
        ),
    ),
    ("other", "其他", "Other", (("other", "其他", "Other"),)),
)


def _zh(line: BusinessLine) -> bool:
    return (line.locale or "zh_CN").lower().startswith("zh")


def _plugin_specs(keys: Iterable[str]) -> list[tuple[str, RootCauseSpec]]:
    from core.services.lines import registry

    reg = registry()
    out: list[tuple[str, RootCauseSpec]] = []
    for key in sorted(keys):
        if key not in reg.descriptors:
            continue
        for specs in reg.caller("kesu_root_causes", [key])():
            out.extend((key, spec) for spec in specs or ())
    return out


def seed(line: BusinessLine, plugin_keys: Iterable[str] | None = None) -> int:
    """Add the defaults (when the line has no catalogue yet) and the entries the plugins
    ``plugin_keys`` (default: those enabled on the line) contribute, in the line's language;
    codes already on the line are kept as they are. Runs inside the caller's write
    transaction; returns how many entries were added."""
    existing = {
        rc.code: rc
        for rc in db.session.scalars(
            sa.select(RootCause).where(RootCause.business_line_id == line.id)
        )
    }
    added = 0

    def add(code: str, name: str, parent: RootCause | None, position: int, source=None):
        nonlocal added
        if code in existing:
            return existing[code]
        row = RootCause(
            business_line_id=line.id,
            parent=parent,
            code=code,
            name=name[:NAME_MAX],
            position=position,
            active=True,
            source=source,
        )
        db.session.add(row)
        existing[code] = row
        added += 1
        return row

    if not existing:
        zh = _zh(line)
        for i, (code, zh_name, en_name, children) in enumerate(DEFAULTS):
            top = add(code, zh_name if zh else en_name, None, i * 100)
            for j, (sub, zh_sub, en_sub) in enumerate(children):
                add(f"{code}.{sub}", zh_sub if zh else en_sub, top, j + 1)
    keys = line.enabled_plugin_keys if plugin_keys is None else plugin_keys
    with force_locale("zh_CN" if _zh(line) else "en"):
        for key, spec in _plugin_specs(keys):
            parent = existing.get(spec.parent)
            if parent is None or parent.parent is not None:  # two levels: under a top entry
                parent = existing.get("other")
            add(f"{key}.{spec.code}", str(spec.name), parent, 50 + len(existing), source=key)
    db.session.flush()
    return added


def seed_missing() -> int:
    """Every line without a catalogue gets one (lines from before the catalogue existed)."""
    bare = db.session.scalars(
        sa.select(BusinessLine).where(
            ~sa.exists().where(RootCause.business_line_id == BusinessLine.id)
        )
    ).all()
    added = 0
    with write_transaction():
        for line in bare:
            added += seed(line)
    return added


def catalogue(line_id: int, *, active_only: bool = True) -> list[RootCause]:
    """The line's entries, top-level first, each followed by its own entries."""
    rows = db.session.scalars(
        sa.select(RootCause)
        .where(RootCause.business_line_id == line_id)
        .order_by(RootCause.position, RootCause.id)
    ).all()
    tops = [r for r in rows if r.parent_id is None and (r.active or not active_only)]
    out: list[RootCause] = []
    for top in tops:
        out.append(top)
        out.extend(r for r in rows if r.parent_id == top.id and (r.active or not active_only))
    return out


def choices(line_id: int) -> list[tuple[int, str]]:
    """What a root-cause picker offers: the active second-level entries, labelled
    "top / entry" (a top-level entry without entries of its own is offered itself), in the
    catalogue's order. Reads plain columns: every case page and answer shows the list."""
    rows = db.session.execute(
        sa.select(RootCause.id, RootCause.parent_id, RootCause.name, RootCause.active)
        .where(RootCause.business_line_id == line_id)
        .order_by(RootCause.position, RootCause.id)
    ).all()
    entries: dict[int, list[tuple[int, str]]] = {}
    for pk, parent_id, name, active in rows:
        if parent_id is not None and active:
            entries.setdefault(parent_id, []).append((pk, name))
    out: list[tuple[int, str]] = []
    for pk, parent_id, name, active in rows:
        if parent_id is None and active:
            own = entries.get(pk)
            out.extend([(e, f"{name} / {n}") for e, n in own] if own else [(pk, name)])
    return out


def resolve(line_id: int, raw: Any, *, field: str = "root_cause_category") -> RootCause | None:
    """The active entry of the line that ``raw`` (its id) names; None for an empty value."""
    if raw is None or raw == "":
        return None
    row = db.session.get(RootCause, ascii_int(str(raw))) if is_id(str(raw)) else None
    offered = row is not None and row.active and (row.parent is None or row.parent.active)
    if not offered or row.business_line_id != line_id:
        raise Invalid(_l("Choose a root cause from the list."), field=field)
    return row


def for_plugin_code(line_id: int, plugin_key: str, code: str) -> RootCause | None:
    """The active entry a plugin contributed under ``code`` on the line, if any."""
    row = db.session.scalar(
        sa.select(RootCause).where(
            RootCause.business_line_id == line_id, RootCause.code == f"{plugin_key}.{code}"
        )
    )
    return row if row is not None and row.active else None


# -- the admin's changes ------------------------------------------------------------------


def _clean_name(raw: Any) -> str:
    name = " ".join(str(raw or "").split())
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = [str(_l("This field is required."))]
    elif len(name) > NAME_MAX:
        errors["name"] = [str(_l("At most %(n)d characters.", n=NAME_MAX))]
    invalid_if(errors)
    return name


def _entry(line: BusinessLine, entry_id: Any) -> RootCause:
    raw = str(entry_id)
    row = db.session.get(RootCause, ascii_int(raw)) if is_id(raw) else None
    if row is None or row.business_line_id != line.id:
        raise NotFound(_l("No such root cause."))
    return row


def add_entry(actor, line: BusinessLine, name: Any, parent_id: Any = None) -> RootCause:
    """Add an entry (under ``parent_id``, a top-level entry of the same line, or at the top)."""
    require(actor, CAN_CONFIGURE, PLUGINS_VIEW)
    clean = _clean_name(name)
    with write_transaction():
        parent = None
        if parent_id not in (None, ""):
            parent = _entry(line, parent_id)
            if parent.parent_id is not None:
                raise Invalid(_l("Entries have two levels only."), field="parent")
        level = RootCause.parent_id == parent.id if parent else RootCause.parent_id.is_(None)
        siblings = db.session.scalars(
            sa.select(RootCause).where(RootCause.business_line_id == line.id, level)
        ).all()
        if any(s.name == clean for s in siblings):
            raise Invalid(_l("This name is taken at this level."), field="name")
        taken = set(
            db.session.scalars(
                sa.select(RootCause.code).where(RootCause.business_line_id == line.id)
            )
        )
        code = next(f"custom.{n}" for n in range(1, len(taken) + 2) if f"custom.{n}" not in taken)
        position = max((s.position for s in siblings), default=0) + 1
        row = RootCause(
            business_line_id=line.id,
            parent=parent,
            code=code,
            name=clean,
            position=position if parent else max(position, 10_000),
            active=True,
        )
        db.session.add(row)
        db.session.flush()
        audit.record(
            actor,
            "root_cause_add",
            entity="business_line",
            entity_id=line.id,
            changes={"root_cause": [None, row.label]},
        )
    return row


def change_entry(actor, line: BusinessLine, entry_id: Any, *, name: Any = None, active=None):
    """Rename an entry or switch it on or off (an entry switched off is no longer offered;
    cases that chose it keep it)."""
    require(actor, CAN_CONFIGURE, PLUGINS_VIEW)
    clean = None if name is None else _clean_name(name)
    with write_transaction():
        row = _entry(line, entry_id)
        changes: dict[str, list[Any]] = {}
        if clean is not None and clean != row.name:
            changes["name"] = [row.name, clean]
            row.name = clean
        if active is not None and bool(active) != row.active:
            changes["active"] = [row.active, bool(active)]
            row.active = bool(active)
        if not changes:
            return row
        db.session.flush()
        audit.record(
            actor,
            "root_cause_change",
            entity="business_line",
            entity_id=line.id,
            changes={"root_cause": [row.label, row.label], **changes},
        )
    return row
