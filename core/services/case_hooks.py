"""The plugin hooks of one case: its category's plugin and the cross-cutting ones, and the
category fields they declare."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from core.contracts import FieldSpec, LineFacts
from core.services.lines import registry


def case_caller(hook: str, line: LineFacts, category: str):
    """The hook caller for a case: its category plugin (if enabled) and cross-cutting plugins."""
    reg = registry()
    return reg.caller(hook, reg.case_plugin_keys(category, line.enabled_plugins))


def line_caller(hook: str, line: LineFacts):
    """The hook caller over every plugin enabled on the line."""
    return registry().caller(hook, line.enabled_plugins)


def flatten(results: Iterable[Iterable[Any] | None]) -> list[Any]:
    return [item for result in results if result for item in result]


def plugin_field_specs(line: LineFacts, category: str) -> list[FieldSpec]:
    """The plugin fields of a case of ``category`` on ``line`` (the API's ``details`` keys)."""
    specs = flatten(case_caller("kesu_case_fields", line, category)(line=line, category=category))
    seen: set[str] = set()
    unique = []
    for spec in specs:
        if spec.name not in seen:
            seen.add(spec.name)
            unique.append(spec)
    return unique


def display_field_specs(line: LineFacts, category: str) -> list[FieldSpec]:
    """Field labels for showing a case, even when its category was disabled since."""
    reg = registry()
    keys = reg.case_plugin_keys(category, line.enabled_plugins) | {category}
    caller = reg.caller("kesu_case_fields", keys & set(reg.descriptors))
    return list({s.name: s for s in flatten(caller(line=line, category=category))}.values())
