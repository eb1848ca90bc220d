"""Business lines as plugins see them, and switching plugins on and off per line."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from core import limits
from core.calendar import parse_hhmm
from core.contracts import LineFacts
from core.db import write_transaction
from core.deadlines import default_settings
from core.deadlines import reachable as sla_reachable
from core.extensions import db
from core.models import BusinessLine, Case, LinePlugin
from core.models.business_line import DEFAULT_LOCALE, DEFAULT_TIMEZONE
from core.plugins import PluginRegistry
from core.services import audit, root_causes, sla_calendar, sla_refresh
from core.services.access import require
from core.services.errors import Conflict, Invalid, invalid_if
from core.settings import CORE_SETTINGS, SETTING_LABELS, VALIDATORS, line_settings
from core.timeutil import is_valid_zone
from core.workflow import FINAL

SLA_SETTINGS = tuple(default_settings())
PLUGINS_VIEW = "Plugins"
CAN_CONFIGURE = "can_configure"


def registry() -> PluginRegistry:
    return current_app.extensions["kesu_plugins"]


def line_facts(line: BusinessLine) -> LineFacts:
    defaults = registry().settings_defaults
    enabled = line.enabled_plugin_keys
    settings = {
        p.plugin_key: {**defaults.get(p.plugin_key, {}), **(p.settings or {})} for p in line.plugins
    }
    return LineFacts(
        id=line.id,
        code=line.code,
        name=line.name,
        timezone=line.timezone,
        enabled_plugins=frozenset(k for k in enabled if k in registry().descriptors),
        plugin_settings=settings,
        settings=line_settings(line.settings),
    )


def get_line(code: str) -> BusinessLine:
    line = db.session.scalar(sa.select(BusinessLine).where(BusinessLine.code == code))
    if line is None:
        raise Invalid(_l("Unknown business line."), field="business_line")
    return line


def _plugin(key: str):
    descriptor = registry().descriptors.get(key)
    if descriptor is None:
        raise Invalid(_l("Unknown plugin."), field="plugin")
    return descriptor


def enable_plugin(actor, line_code: str, key: str) -> bool:
    """Switch plugin ``key`` on for a line, with the plugins it depends on already on.

    Returns False when it was already on (nothing written).
    """
    require(actor, CAN_CONFIGURE, PLUGINS_VIEW)
    descriptor = _plugin(key)
    with write_transaction():
        line = get_line(line_code)
        enabled = line.enabled_plugin_keys
        if key in enabled:
            return False
        missing = [d for d in descriptor.depends if d not in enabled]
        if missing:
            raise Conflict(
                str(_l("Enable %(plugins)s on this line first.", plugins=", ".join(missing))),
                field="plugin",
            )
        row = LinePlugin(plugin_key=key, settings={})
        line.plugins.append(row)
        db.session.flush()
        root_causes.seed(line, [key])
        audit.record(
            actor,
            "plugin_enable",
            entity="business_line",
            entity_id=line.id,
            changes={"plugins": [sorted(enabled), sorted(enabled | {key})]},
        )
    return True


def disable_plugin(actor, line_code: str, key: str) -> bool:
    """Switch plugin ``key`` off for a line; its existing cases stay readable.

    Refused while another plugin enabled on the line depends on it. Returns False when it
    was already off.
    """
    require(actor, CAN_CONFIGURE, PLUGINS_VIEW)
    _plugin(key)
    with write_transaction():
        line = get_line(line_code)
        enabled = line.enabled_plugin_keys
        if key not in enabled:
            return False
        descriptors = registry().descriptors
        dependants = [
            k for k in enabled if k != key and k in descriptors and key in descriptors[k].depends
        ]
        if dependants:
            raise Conflict(
                str(
                    _l(
                        "%(plugins)s depend on this plugin; disable them first.",
                        plugins=", ".join(sorted(dependants)),
                    )
                ),
                field="plugin",
            )
        for row in list(line.plugins):
            if row.plugin_key == key:
                line.plugins.remove(row)
        db.session.flush()
        audit.record(
            actor,
            "plugin_disable",
            entity="business_line",
            entity_id=line.id,
            changes={"plugins": [sorted(enabled), sorted(enabled - {key})]},
        )
    return True


def open_case_counts(key: str) -> dict[int, int]:
    """Open cases of category ``key`` per line id (shown before disabling a category)."""
    rows = db.session.execute(
        sa.select(Case.business_line_id, sa.func.count())
        .where(Case.category == key, Case.status.not_in(FINAL))
        .group_by(Case.business_line_id)
    )
    return {line_id: n for line_id, n in rows}


def plugin_matrix() -> list[dict[str, Any]]:
    """Every installed plugin with its state on every line (the admin screen and CLI)."""
    lines = list(db.session.scalars(sa.select(BusinessLine).order_by(BusinessLine.code)))
    out = []
    for key, descriptor in registry().descriptors.items():
        out.append(
            {
                "descriptor": descriptor,
                "lines": {line.code: key in line.enabled_plugin_keys for line in lines},
            }
        )
    return out


def create_line(
    actor,
    *,
    code: str,
    name: str,
    timezone: str = DEFAULT_TIMEZONE,
    locale: str = DEFAULT_LOCALE,
    plugins: list[str] | tuple[str, ...] = (),
) -> BusinessLine:
    """Create a business line, optionally with plugins switched on (audited)."""
    require(actor, CAN_CONFIGURE, PLUGINS_VIEW)
    errors: dict[str, list[str]] = {}
    if not code or not code.strip():
        errors["code"] = [str(_l("This field is required."))]
    if not name or not name.strip():
        errors["name"] = [str(_l("This field is required."))]
    if not is_valid_zone(timezone):
        errors["timezone"] = [str(_l("Unknown timezone."))]
    unknown = [k for k in plugins if k not in registry().descriptors]
    if unknown:
        errors["plugins"] = [str(_l("Unknown plugin."))]
    invalid_if(errors)
    with write_transaction():
        if db.session.scalar(sa.select(BusinessLine).where(BusinessLine.code == code)):
            raise Conflict(_l("This code is taken."), field="code")
        line = BusinessLine(code=code.strip(), name=name.strip(), timezone=timezone, locale=locale)
        line.plugins = [LinePlugin(plugin_key=k, settings={}) for k in plugins]
        db.session.add(line)
        db.session.flush()
        audit.record(
            actor,
            "create",
            entity="business_line",
            entity_id=line.id,
            changes={
                "code": [None, line.code],
                "name": [None, line.name],
                "timezone": [None, timezone],
                "plugins": [None, sorted(plugins)],
            },
        )
        root_causes.seed(line)  # the default root-cause catalogue, and the plugins' entries
        sla_calendar.seed_china(actor, line)  # China's calendar by default (DOMAIN.md section 6)
    return line


CORE_KEY = "kesu_core"  # the line's own settings (the core's thresholds), beside the plugins'


def declared_settings(key: str) -> dict[str, Any]:
    """The settings ``key`` (a plugin key, or ``kesu_core``) declares, with their defaults."""
    if key == CORE_KEY:
        return dict(CORE_SETTINGS)
    _plugin(key)
    return dict(registry().settings_defaults.get(key, {}))


def setting_labels(key: str) -> dict[str, Any]:
    """How the settings screen names the settings of plugin ``key`` (``kesu_setting_labels``)."""
    labels: dict[str, Any] = {}
    for result in registry().caller("kesu_setting_labels", [key])():
        labels.update(result or {})
    return labels


def parse_setting(default: Any, raw: Any) -> Any:
    """A setting's value in the default's kind, from JSON or from text (a form, the shell)."""
    kind = type(default)
    if kind is Decimal:
        return Decimal(str(raw).strip() if not isinstance(raw, bool) else "x").quantize(
            Decimal("0.01")
        )
    if isinstance(raw, str) and kind is not str:
        text = raw.strip()
        if kind is bool:
            if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(text)
            return text.lower() in ("true", "1", "yes")
        if kind is list:
            return [
                part.strip()
                for part in text.replace("，", ",").replace("\n", ",").split(",")
                if part.strip()
            ]
        return kind(text)
    if kind is Decimal and isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return Decimal(str(raw))
    if type(raw) is not kind or (kind is list and not all(isinstance(v, str) for v in raw)):
        raise ValueError(raw)
    return raw


def setting_over_limit(value: Any) -> Any:
    """The message when a setting's value is over core/limits.py's maxima, else None."""
    if isinstance(value, str) and len(value) > limits.TEXT_SHORT:
        return str(_l("Must be at most %(n)s characters.", n=limits.TEXT_SHORT))
    if isinstance(value, list):
        if len(value) > limits.SETTING_ITEMS:
            return str(_l("At most %(n)s items.", n=limits.SETTING_ITEMS))
        return next(filter(None, map(setting_over_limit, value)), None)
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and abs(value) > limits.QUANTITY:
        return str(_l("Must be at most %(n)s.", n=limits.QUANTITY))
    if isinstance(value, Decimal) and abs(value) > limits.AMOUNT:
        return str(_l("Must be at most %(n)s.", n=limits.AMOUNT))
    return None


def effective_settings(line: BusinessLine, key: str) -> dict[str, Any]:
    """A line's settings of ``key``: its stored values over the declared defaults."""
    if key == CORE_KEY:
        return line_settings(line.settings)
    row = next((p for p in line.plugins if p.plugin_key == key), None)
    return {**declared_settings(key), **((row.settings if row else None) or {})}


def update_plugin_settings(
    actor, line_code: str, key: str, values: dict[str, Any]
) -> dict[str, Any]:
    """Change the settings of a plugin (or, with ``kesu_core``, the core's) on a line (audited).

    Only declared settings; each value in its default's kind (text is converted, as from a
    form or the shell). Returns the effective settings.
    """
    require(actor, CAN_CONFIGURE, PLUGINS_VIEW)
    defaults = declared_settings(key)
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    for name, raw in values.items():
        if name not in defaults:
            errors[name] = [str(_l("Unknown field."))]
            continue
        if isinstance(raw, str) and len(raw) > limits.TEXT_LONG:
            errors[name] = [str(_l("Must be at most %(n)s characters.", n=limits.TEXT_LONG))]
            continue
        try:
            clean[name] = parse_setting(defaults[name], raw)
            over = setting_over_limit(clean[name])
            if over is not None:
                errors[name] = [str(over)]
                continue
        except (ValueError, ArithmeticError):
            errors[name] = [
                str(
                    str(
                        _l(
                            "Must be of the same kind as the default (%(default)s).",
                            default=defaults[name],
                        )
                    )
                )
            ]
    if key == CORE_KEY:
        for name, value in clean.items():
            check, message = VALIDATORS.get(name, (None, None))
            if check is None or name in errors:
                continue
            try:
                check(value)
            except (ValueError, TypeError, ArithmeticError):
                errors[name] = [str(message)]
    invalid_if(errors, SETTING_LABELS if key == CORE_KEY else setting_labels(key))
    stored = {k: str(v) if isinstance(v, Decimal) else v for k, v in clean.items()}
    with write_transaction():
        line = get_line(line_code)
        before = effective_settings(line, key)
        if key == CORE_KEY:
            merged = line_settings({**(line.settings or {}), **stored})
            if parse_hhmm(merged["work_end"]) <= parse_hhmm(merged["work_start"]):
                raise Invalid(
                    _l("The working day must end after it starts."),
                    field="work_end" if "work_end" in clean else "work_start",
                )
            for name in SLA_SETTINGS:
                try:
                    sla_reachable(merged, merged[name])
                except ValueError:
                    raise Invalid(
                        _l(
                            "With these working hours this deadline would end beyond the "
                            "calendar; give at most 250 working days."
                        ),
                        field=name,
                    ) from None
            line.settings = {**(line.settings or {}), **stored}
        else:
            row = next((p for p in line.plugins if p.plugin_key == key), None)
            if row is None:
                raise Conflict(_l("Enable the plugin on this line first."), field="plugin")
            row.settings = {**(row.settings or {}), **stored}
        db.session.flush()
        audit.record(
            actor,
            "settings",
            entity="business_line",
            entity_id=line.id,
            changes={f"{key}.{k}": [before.get(k), v] for k, v in clean.items()},
        )
        sla_refresh.mark_refresh(line)  # priorities, working hours, deadlines and rules may move
        result = effective_settings(line, key)
    sla_refresh.refresh_open_cases(actor, line)
    return result
