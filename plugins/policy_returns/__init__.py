"""Policy returns (政策退换货): a Kesu category plugin."""

from core.contracts import PluginDescriptor

DESCRIPTOR = PluginDescriptor(
    key="policy_returns",
    name_zh="政策退换货",
    name_en="Policy returns",
    version="0.1.0",
    description_zh="因公司或客户政策引起的退货、换货。",
    description_en="Returns and exchanges caused by a company or customer policy.",
    category=True,
)
