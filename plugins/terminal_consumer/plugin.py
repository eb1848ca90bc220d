"""Hook implementations of the terminal_consumer plugin (the ``kesu.plugins`` entry point)."""

from core import hookimpl
from plugins.terminal_consumer import DESCRIPTOR


@hookimpl
def kesu_plugin_descriptor():
    return DESCRIPTOR
