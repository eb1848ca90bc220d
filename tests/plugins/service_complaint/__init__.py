"""Service complaints (服务投诉): the example third-party plugin of docs/plugins.md.

It lives outside the Kesu distribution and is found only through its ``kesu.plugins``
entry point, exactly like a plugin installed from its own package.
"""

from core.contracts import PluginDescriptor

DESCRIPTOR = PluginDescriptor(
    key="service_complaint",
    name_zh="服务投诉",
    name_en="Service complaint",
    version="1.0.0",
    description_zh="酒店及服务行业的服务投诉：前台、客房、餐饮。",
    description_en="Hotel and service complaints: front desk, housekeeping, catering.",
)
