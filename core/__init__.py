"""Kesu core: cases, business lines, workflow, roles, audit trail and the plugin framework.

Plugins import the hook implementation marker from here::

    from core import hookimpl
"""

import pluggy

PROJECT_NAME = "kesu"

hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
hookspec = pluggy.HookspecMarker(PROJECT_NAME)

__all__ = ["hookimpl", "hookspec", "PROJECT_NAME"]
