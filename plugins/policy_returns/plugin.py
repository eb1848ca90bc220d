"""Hook implementations of the policy_returns plugin (the ``kesu.plugins`` entry point)."""

from core import hookimpl
from plugins.policy_returns import DESCRIPTOR


@hookimpl
def kesu_plugin_descriptor():
    return DESCRIPTOR
