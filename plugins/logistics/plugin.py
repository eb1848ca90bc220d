"""Hook implementations of the logistics plugin (the ``kesu.plugins`` entry point)."""

from core import hookimpl
from plugins.logistics import DESCRIPTOR


@hookimpl
def kesu_plugin_descriptor():
    return DESCRIPTOR
