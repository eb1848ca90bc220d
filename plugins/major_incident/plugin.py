"""Hook implementations of the major_incident plugin (the ``kesu.plugins`` entry point)."""

from core import hookimpl
from plugins.major_incident import DESCRIPTOR


@hookimpl
def kesu_plugin_descriptor():
    return DESCRIPTOR
