"""Terminal consumer (终端客户投诉): a Kesu category plugin."""

from core.contracts import PluginDescriptor

DESCRIPTOR = PluginDescriptor(
    key="terminal_consumer",
    name_zh="终端客户投诉",
    name_en="Terminal consumer",
    version="0.1.0",
    description_zh="终端消费者对产品质量的投诉，含恶意投诉处理。",
    description_en="End-consumer complaints about product quality, including malicious complaints.",
    category=True,
)
