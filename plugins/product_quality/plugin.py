"""Hook implementations of the product_quality plugin (the ``kesu.plugins`` entry point)."""

from core import hookimpl
from plugins.product_quality import DESCRIPTOR


@hookimpl
def kesu_plugin_descriptor():
    return DESCRIPTOR
