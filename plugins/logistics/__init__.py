"""Logistics (物流问题): a Kesu category plugin."""

from core.contracts import PluginDescriptor

DESCRIPTOR = PluginDescriptor(
    key="logistics",
    name_zh="物流问题",
    name_en="Logistics",
    version="0.1.0",
    description_zh="运输残损、短缺，运输时效与服务。",
    description_en="Transit damage or shortage, transit time and carrier service.",
    category=True,
)
