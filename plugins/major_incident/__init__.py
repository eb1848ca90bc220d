"""Major incident (重大投诉): a Kesu cross-cutting plugin."""

from core.contracts import PluginDescriptor

DESCRIPTOR = PluginDescriptor(
    key="major_incident",
    name_zh="重大投诉",
    name_en="Major incident",
    version="0.1.0",
    description_zh="识别重大投诉（批次爆发、监管介入、健康与安全、媒体、重点客户），适用于所有类别。",
    description_en="Detects major incidents (batch outbreak, regulators, health and safety, media, key accounts) on every category.",
    category=False,
)
