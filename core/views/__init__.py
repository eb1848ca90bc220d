"""The core's screens (thin Flask-AppBuilder views over the service layer)."""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l

# Menu names (what permissions name) and their labels.
COMPLAINTS = "Complaints"
MASTER_DATA = "Master data"
ADMINISTRATION = "Administration"
REPORTS = "Reports"


def register_core_views(appbuilder) -> None:
    """Register every core screen with its menu entry."""
    from core.views.admin import (
        BusinessLineView,
        CustomerView,
        DepartmentView,
        LinePositionView,
        PluginAdminView,
        ProductView,
    )
    from core.views.archive import ArchiveView
    from core.views.audit import AuditView
    from core.views.cases import CaseView
    from core.views.compensation import CompensationView, install_template_globals
    from core.views.finance import FinanceExportView
    from core.views.inbox import InboxView, NotificationView, navbar_counts
    from core.views.print_form import PrintFormView
    from core.views.root_causes import RootCauseView
    from core.views.sla import CalendarView, SlaView
    from core.views.visits import VisitView, visit_panel
    from core.views.workspace import WorkspaceView
    from core.views.workspace import install_template_globals as install_workspace_globals

    # My work (我的工作) comes first in the Complaints menu, with its count beside it.
    appbuilder.add_view(
        WorkspaceView,
        "My work",
        label=_l("My work"),
        icon="fa-tasks",
        category=COMPLAINTS,
        category_label=_l("Complaints"),
        category_icon="fa-comments",
    )
    install_workspace_globals(current_app)
    appbuilder.add_view(
        CaseView,
        "Cases",
        label=_l("Cases"),
        icon="fa-list",
        category=COMPLAINTS,
        category_label=_l("Complaints"),
        category_icon="fa-comments",
    )
    appbuilder.add_view_no_menu(CompensationView)
    from core.views.intake import IntakeView

    appbuilder.add_view_no_menu(IntakeView)
    install_template_globals(current_app)
    appbuilder.add_link(
        "Register",
        href="/cases/new",
        label=_l("Register a complaint"),
        icon="fa-plus",
        category=COMPLAINTS,
    )
    appbuilder.add_view(
        InboxView,
        "Inbox",
        label=_l("Waiting for my approval"),
        icon="fa-inbox",
        category=COMPLAINTS,
    )
    appbuilder.add_view(
        NotificationView,
        "Notifications",
        label=_l("Notifications"),
        icon="fa-bell",
        category=COMPLAINTS,
    )
    appbuilder.add_view(
        VisitView,
        "Return visits",
        label=_l("Return visits"),
        icon="fa-phone",
        category=COMPLAINTS,
    )
    appbuilder.add_view_no_menu(PrintFormView)
    current_app.jinja_env.globals["kesu_visit_panel"] = visit_panel
    current_app.jinja_env.globals["kesu_navbar_counts"] = navbar_counts
    appbuilder.add_view(
        SlaView,
        "SLA dashboard",
        label=_l("SLA dashboard"),
        icon="fa-clock-o",
        category=COMPLAINTS,
    )
    from core.views.ledger import LedgerView

    appbuilder.add_view(
        LedgerView, "Ledger", label=_l("Ledger"), icon="fa-book", category=COMPLAINTS
    )
    appbuilder.add_view(
        FinanceExportView,
        "Finance exports",
        label=_l("Finance exports"),
        icon="fa-money",
        category=COMPLAINTS,
    )
    from core.views.report import ReportView

    appbuilder.add_view(
        ReportView,
        "Monthly report",
        label=_l("Monthly report"),
        icon="fa-bar-chart",
        category=REPORTS,
        category_label=_l("Reports"),
        category_icon="fa-line-chart",
    )
    appbuilder.add_link(
        "Accountability",
        href="/report/accountability",
        label=_l("Accountability"),
        icon="fa-balance-scale",
        category=REPORTS,
    )
    from core.views.capa import CapaView

    appbuilder.add_view(
        CapaView,
        "Corrective actions",
        label=_l("Corrective actions"),
        icon="fa-wrench",
        category=REPORTS,
    )
    appbuilder.add_view(
        CustomerView,
        "Customers",
        label=_l("Customers"),
        icon="fa-address-book",
        category=MASTER_DATA,
        category_label=_l("Master data"),
        category_icon="fa-database",
    )
    appbuilder.add_view(
        ProductView, "Products", label=_l("Products"), icon="fa-cube", category=MASTER_DATA
    )
    appbuilder.add_view(
        AuditView,
        "Audit trail",
        label=_l("Audit trail"),
        icon="fa-shield",
        category=ADMINISTRATION,
        category_label=_l("Administration"),
        category_icon="fa-cogs",
    )
    appbuilder.add_view(
        PluginAdminView,
        "Plugins",
        label=_l("Plugins"),
        icon="fa-puzzle-piece",
        category=ADMINISTRATION,
        category_label=_l("Administration"),
        category_icon="fa-cogs",
    )
    appbuilder.add_view(
        LinePositionView,
        "Positions",
        label=_l("Positions"),
        icon="fa-id-badge",
        category=ADMINISTRATION,
    )
    appbuilder.add_view(
        CalendarView,
        "Calendars",
        label=_l("Working calendars"),
        icon="fa-calendar",
        category=ADMINISTRATION,
    )
    appbuilder.add_view(
        ArchiveView, "Archive", label=_l("Archive"), icon="fa-archive", category=ADMINISTRATION
    )
    appbuilder.add_view(
        RootCauseView,
        "Root causes",
        label=_l("Root-cause catalogue"),
        icon="fa-sitemap",
        category=ADMINISTRATION,
    )
    appbuilder.add_view(
        BusinessLineView,
        "Business lines",
        label=_l("Business lines"),
        icon="fa-sitemap",
        category=ADMINISTRATION,
    )
    appbuilder.add_view(
        DepartmentView,
        "Departments",
        label=_l("Departments"),
        icon="fa-building",
        category=ADMINISTRATION,
    )
