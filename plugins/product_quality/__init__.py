"""Product quality (产品质量): a Kesu category plugin."""

from core.contracts import PluginDescriptor

DESCRIPTOR = PluginDescriptor(
    key="product_quality",
    name_zh="产品质量",
    name_en="Product quality",
    version="0.1.0",
    description_zh="短装、错装、到货破损，以及产品质量异常（含纠正与预防措施）。",
    description_en="Short or wrong shipment, damage on receipt, and product quality defects with corrective actions.",
    category=True,
)
