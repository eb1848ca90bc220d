"""The plugin manager: discovery through entry points, descriptors, per-line hook callers."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from importlib.metadata import entry_points
from typing import Any

import pluggy

from core import PROJECT_NAME, hookspecs
from core.contracts import PluginDescriptor

ENTRY_POINT_GROUP = "kesu.plugins"
CORE_PLUGIN_NAME = "kesu_core"


class PluginError(RuntimeError):
    """A plugin cannot be loaded: missing descriptor, wrong key, unknown dependency."""


class PluginRegistry:
    """The installed plugins of one application and the hook callers over them."""

    def __init__(self, only: Iterable[str] | None = None) -> None:
        self.pm = pluggy.PluginManager(PROJECT_NAME)
        self.pm.add_hookspecs(hookspecs)
        from core import defaults

        self.pm.register(defaults, name=CORE_PLUGIN_NAME)
        wanted = set(only) if only is not None else None
        for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            if wanted is not None and ep.name not in wanted:
                continue
            if self.pm.has_plugin(ep.name):
                continue
            self.pm.register(ep.load(), name=ep.name)
        self._refresh()

    def _refresh(self) -> None:
        # A misspelt hook implementation (kesu_case_feilds) fails here, at start-up.
        self.pm.check_pending()
        self.descriptors: dict[str, PluginDescriptor] = self._collect_descriptors()
        self.settings_defaults: dict[str, dict[str, Any]] = self._collect_settings()
        self._subset.cache_clear()

    def register(self, plugin: object, name: str) -> None:
        """Register a plugin object after start-up (embedding applications and tests).

        Its start-up hooks (roles, translations, screens) have no effect any more.
        """
        self.pm.register(plugin, name=name)
        try:
            self._refresh()
        except Exception:
            self.pm.unregister(name=name)
            self._refresh()
            raise

    def _collect_descriptors(self) -> dict[str, PluginDescriptor]:
        found: dict[str, PluginDescriptor] = {}
        for impl in self.pm.hook.kesu_plugin_descriptor.get_hookimpls():
            descriptor = impl.function()
            if not isinstance(descriptor, PluginDescriptor):
                raise PluginError(
                    f"plugin {impl.plugin_name!r}: descriptor is not a PluginDescriptor"
                )
            if descriptor.key != impl.plugin_name:
                raise PluginError(
                    f"plugin {impl.plugin_name!r}: descriptor key {descriptor.key!r} "
                    "differs from its entry-point name"
                )
            found[descriptor.key] = descriptor
        for name, _plugin in self.pm.list_name_plugin():
            if name != CORE_PLUGIN_NAME and name not in found:
                raise PluginError(f"plugin {name!r} does not implement kesu_plugin_descriptor")
        for descriptor in found.values():
            missing = [d for d in descriptor.depends if d not in found]
            if missing:
                raise PluginError(
                    f"plugin {descriptor.key!r} depends on {', '.join(missing)}, not installed"
                )
        return dict(sorted(found.items()))

    def _collect_settings(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for impl in self.pm.hook.kesu_line_settings.get_hookimpls():
            out[impl.plugin_name] = dict(impl.function() or {})
        return out

    # -- listing ---------------------------------------------------------------------------

    @property
    def keys(self) -> list[str]:
        return list(self.descriptors)

    def categories(self) -> list[PluginDescriptor]:
        return [d for d in self.descriptors.values() if d.category]

    def is_category(self, key: str) -> bool:
        d = self.descriptors.get(key)
        return bool(d and d.category)

    # -- hook callers ----------------------------------------------------------------------

    def call_all(self, hook_name: str, **kwargs: Any) -> list[Any]:
        """Call a start-up hook on every installed plugin."""
        return getattr(self.pm.hook, hook_name)(**kwargs)

    def caller(self, hook_name: str, plugin_keys: Iterable[str]):
        """A hook caller restricted to ``plugin_keys`` plus the core's default plugin."""
        return self._subset(hook_name, frozenset(plugin_keys))

    @functools.lru_cache(maxsize=1024)  # noqa: B019 - one registry per application
    def _subset(self, hook_name: str, keep: frozenset[str]):
        remove = [
            plugin
            for name, plugin in self.pm.list_name_plugin()
            if name != CORE_PLUGIN_NAME and name not in keep
        ]
        return self.pm.subset_hook_caller(hook_name, remove_plugins=remove)

    def case_plugin_keys(self, category: str, enabled: Iterable[str]) -> frozenset[str]:
        """The plugins whose case hooks run for a case of ``category`` on a line."""
        enabled = set(enabled)
        keys = {k for k in enabled if k in self.descriptors and not self.is_category(k)}
        if category in enabled:
            keys.add(category)
        return frozenset(keys)
