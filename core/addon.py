"""The one Flask-AppBuilder add-on: registers the core's screens and the plugins' screens.

Plugins never subclass ``BaseManager`` nor call ``add_view``; they hand their screens back
through the ``kesu_views`` hook and this manager registers them.
"""

from __future__ import annotations

from flask import current_app
from flask_appbuilder.api import BaseApi
from flask_appbuilder.basemanager import BaseManager

from core.api.capa import CapaApi
from core.api.cases import CaseApi
from core.api.execution import CompensationApi
from core.api.finance import FinanceApi
from core.api.ledger import LedgerApi
from core.api.reference import CustomerApi, ProductApi
from core.api.report import ReportApi
from core.api.sla import SlaApi
from core.api.visits import CaseVisitApi, VisitApi


class KesuManager(BaseManager):
    def register_views(self) -> None:
        from core.views import register_core_views

        ab = self.appbuilder
        ab.add_api(CaseApi)
        ab.add_api(CompensationApi)
        ab.add_api(FinanceApi)
        ab.add_api(LedgerApi)
        ab.add_api(CustomerApi)
        ab.add_api(ProductApi)
        ab.add_api(SlaApi)
        ab.add_api(ReportApi)
        ab.add_api(CapaApi)
        ab.add_api(CaseVisitApi)
        ab.add_api(VisitApi)
        register_core_views(ab)
        registry = current_app.extensions["kesu_plugins"]
        for specs in registry.call_all("kesu_views"):
            for spec in specs or ():
                if isinstance(spec.view, type) and issubclass(spec.view, BaseApi):
                    ab.add_api(spec.view)
                elif spec.menu:
                    ab.add_view(
                        spec.view,
                        spec.name,
                        label=spec.label or spec.name,
                        icon=spec.icon,
                        category=spec.category,
                        category_label=spec.category_label or spec.category,
                    )
                else:
                    ab.add_view_no_menu(spec.view)
