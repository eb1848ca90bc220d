"""The roles of DOMAIN.md section 10 and the permissions each holds.

Roles are declared here, in configuration, and written to the database by ``kesu init``.
They become Flask-AppBuilder *builtin roles* (``FAB_ROLES``): each grants
``(view_menu_regex, permission_regex)`` pairs. Workflow actions declare the roles allowed to
run them (:mod:`core.workflow`); those grants are added here as ``can_<action>`` on ``Case``.
Plugins add their own grants through the ``kesu_roles`` hook.
"""

from __future__ import annotations

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l

ADMIN = "Admin"
CS_AGENT = "CS Agent"
CS_SUPERVISOR = "CS Supervisor"
QA = "QA"
RESPONSIBLE_DEPT = "Responsible Dept"
SALES = "Sales"
MANAGER = "Manager"
FINANCE = "Finance"
AUDITOR = "Auditor"

# What people see of each role (FAB's own "Public" and "User" roles included).
ROLE_LABELS = {
    ADMIN: _l("Administrator"),
    CS_AGENT: _l("Customer-service agent"),
    CS_SUPERVISOR: _l("Customer-service supervisor"),
    QA: _l("Quality assurance"),
    RESPONSIBLE_DEPT: _l("Responsible department"),
    SALES: _l("Sales"),
    MANAGER: _l("Manager"),
    FINANCE: _l("Finance"),
    AUDITOR: _l("Auditor"),
    "Public": _l("Not signed in"),
    "User": _l("Unused default role"),
}


def role_label(name: str) -> str:
    """A role's name as people read it: the core's labels, then the plugins' (``kesu_role_labels``)."""
    if name in ROLE_LABELS:
        return str(ROLE_LABELS[name])
    if has_app_context():
        for labels in current_app.extensions["kesu_plugins"].call_all("kesu_role_labels"):
            if labels and name in labels:
                return str(labels[name])
    return name


ROLES = (ADMIN, CS_AGENT, CS_SUPERVISOR, QA, RESPONSIBLE_DEPT, SALES, MANAGER, FINANCE, AUDITOR)

# Permission names on the "Case" view menu (besides the workflow actions' can_<action>).
CASE = "Case"
CAN_READ = "can_read"
CAN_CREATE = "can_create"
CAN_EDIT = "can_edit"
CAN_UPLOAD = "can_upload"
CAN_OVERRIDE_ACCEPTANCE = "can_override_acceptance"
CAN_SET_PRIORITY = "can_set_priority"
# SLA: the supervisors' dashboard, attainment and at-risk customers; the overdue sweep.
SLA = "SLA"
# "View contact": unmasked customer phone and e-mail.
CONTACT = "Contact"
CAN_VIEW_CONTACT = "can_view"
AUDIT = "Audit"
CAN_READ_AUDIT = "can_read"
# Carrying out approved compensation lines (core.services.execution): money lines are marked
# done by Finance, goods lines by Sales or customer service; a supervisor may cancel a line.
COMPENSATION = "Compensation"
CAN_SETTLE_MONEY = "can_settle_money"
CAN_SETTLE_GOODS = "can_settle_goods"
CAN_CANCEL_LINE = "can_cancel"
# Finance exports (core.services.finance): the pending lists, batches, their files, voiding.
FINANCE_EXPORT = "Finance export"
CAN_EXPORT = "can_export"
CAN_VOID = "can_void"
# Return visits (core.services.visits): record one, see the due list, dismiss a reopen request.
VISIT = "Visit"
CAN_RECORD_VISIT = "can_record"
CAN_DISMISS_VISIT = "can_dismiss"

# The ledger (台帐) of cases, its export; archiving closed cases past the line's retention.
LEDGER = "Ledger"
CAN_ARCHIVE = "can_archive"
# Management reports: the monthly report and accountability (考核).
REPORT = "Report"
# The register of corrective and preventive actions across cases (CAPA).
CAPA = "CAPA register"

_STAFF = (CS_AGENT, CS_SUPERVISOR, QA, RESPONSIBLE_DEPT, SALES, MANAGER, FINANCE, AUDITOR)

# Base grants per role; workflow-action grants are added by role_config().
BASE_GRANTS: dict[str, list[tuple[str, str]]] = {
    ADMIN: [(".*", ".*")],
    CS_AGENT: [
        (CASE, f"{CAN_READ}|{CAN_CREATE}|{CAN_EDIT}|{CAN_UPLOAD}"),
        (CONTACT, CAN_VIEW_CONTACT),
        ("Customer", "can_add|can_edit"),
        (COMPENSATION, CAN_SETTLE_GOODS),
        (VISIT, f"{CAN_READ}|{CAN_RECORD_VISIT}"),
        ("Return visits", "menu_access"),
        (LEDGER, CAN_READ),
        ("Ledger", "menu_access"),
    ],
    CS_SUPERVISOR: [
        (
            CASE,
            f"{CAN_READ}|{CAN_CREATE}|{CAN_EDIT}|{CAN_UPLOAD}|{CAN_OVERRIDE_ACCEPTANCE}"
            f"|{CAN_SET_PRIORITY}",
        ),
        (CONTACT, CAN_VIEW_CONTACT),
        (AUDIT, CAN_READ_AUDIT),
        (SLA, "can_read"),
        ("SLA dashboard", "menu_access"),
        ("Administration|Audit trail", "menu_access"),
        ("Customer", "can_add|can_edit"),
        (COMPENSATION, f"{CAN_SETTLE_GOODS}|{CAN_CANCEL_LINE}"),
        (VISIT, f"{CAN_READ}|{CAN_RECORD_VISIT}|{CAN_DISMISS_VISIT}"),
        ("Return visits", "menu_access"),
        (LEDGER, CAN_READ),
        (REPORT, CAN_READ),
        (CAPA, CAN_READ),
        ("Ledger|Monthly report|Accountability|Corrective actions", "menu_access"),
    ],
    QA: [
        (CASE, f"{CAN_READ}|{CAN_UPLOAD}"),
        (LEDGER, CAN_READ),
        (REPORT, CAN_READ),
        (CAPA, CAN_READ),
        ("Ledger|Monthly report|Accountability|Corrective actions", "menu_access"),
    ],
    RESPONSIBLE_DEPT: [
        (CASE, f"{CAN_READ}|{CAN_UPLOAD}"),
        (CAPA, CAN_READ),
        ("Corrective actions", "menu_access"),
    ],
    SALES: [
        (CASE, f"{CAN_READ}|{CAN_CREATE}|{CAN_UPLOAD}"),
        (CONTACT, CAN_VIEW_CONTACT),
        (COMPENSATION, CAN_SETTLE_GOODS),
    ],
    MANAGER: [
        (CASE, f"{CAN_READ}|{CAN_SET_PRIORITY}"),
        (AUDIT, CAN_READ_AUDIT),
        (SLA, "can_read"),
        ("SLA dashboard", "menu_access"),
        ("Administration|Audit trail", "menu_access"),
        (LEDGER, CAN_READ),
        (REPORT, CAN_READ),
        (CAPA, CAN_READ),
        ("Ledger|Monthly report|Accountability|Corrective actions", "menu_access"),
    ],
    FINANCE: [
        (CASE, CAN_READ),
        (COMPENSATION, CAN_SETTLE_MONEY),
        (FINANCE_EXPORT, f"{CAN_READ}|{CAN_EXPORT}|{CAN_VOID}"),
        ("Finance exports", "menu_access"),
        (LEDGER, CAN_READ),
        (REPORT, CAN_READ),
        ("Ledger|Monthly report|Accountability", "menu_access"),
    ],
    AUDITOR: [
        (CASE, CAN_READ),
        (AUDIT, CAN_READ_AUDIT),
        (SLA, "can_read"),
        ("SLA dashboard", "menu_access"),
        ("Administration|Audit trail", "menu_access"),
        (LEDGER, CAN_READ),
        (REPORT, CAN_READ),
        (CAPA, CAN_READ),
        ("Ledger|Monthly report|Accountability|Corrective actions", "menu_access"),
    ],
}

# Every staff role may read the reference data of its own lines and use the common screens.
COMMON_GRANTS: list[tuple[str, str]] = [
    ("Complaints|Cases|Notifications|Master data|Customers|Products", "menu_access"),
    ("Notification", "can_read"),
    ("Customer|Product", "can_list|can_show"),
]

# Every role, a plugin's included, keeps its own account (profile, password) and may read the
# API's own description (/api/v1/_openapi) and its Swagger UI (docs/api.md).
EVERY_ROLE_GRANTS: list[tuple[str, str]] = [
    ("UserInfoEditView", "can_this_form_get|can_this_form_post"),
    ("ResetMyPasswordView", "can_this_form_get|can_this_form_post"),
    ("UserDBModelView", "can_userinfo|resetmypassword"),
    ("KesuUserDBModelView", "can_userinfo|resetmypassword"),
    ("OpenApi", "can_get"),
    ("SwaggerView", "can_show"),
    ("My work", "menu_access"),  # each role's home (core/views/workspace.py)
]


# The intake menu entry is for the roles that register complaints.
REGISTER_MENU = ("Register", "menu_access")
# The approval inbox is for the roles that approve.
INBOX_MENU = ("Inbox", "menu_access")
# The Reports menu (报表) for the roles that see one of its entries.
REPORTS_MENU = ("Reports", "menu_access")
REPORTS_ENTRIES = frozenset({"Ledger", "Monthly report", "Accountability", "Corrective actions"})


def role_config(
    action_roles: dict[str, tuple[str, ...]],
    plugin_grants: list[dict[str, list[tuple[str, str]]]] = (),
) -> dict[str, list[list[str]]]:
    """Build ``FAB_ROLES``: base grants, workflow-action grants and plugins' grants."""
    grants: dict[str, list[tuple[str, str]]] = {r: list(g) for r, g in BASE_GRANTS.items()}
    for role in _STAFF:
        grants[role].extend(COMMON_GRANTS)
    for role, pairs in list(grants.items()):
        if any(view == CASE and CAN_CREATE in perm.split("|") for view, perm in pairs):
            grants[role].append(REGISTER_MENU)
    for action, roles in action_roles.items():
        for role in roles:
            grants.setdefault(role, []).append((CASE, f"can_{action}"))
    for role in action_roles.get("approve", ()):
        grants.setdefault(role, []).append(INBOX_MENU)
    for extra in plugin_grants:
        for role, pairs in (extra or {}).items():
            grants.setdefault(role, []).extend(tuple(p) for p in pairs)
    for role, pairs in grants.items():
        if any(
            perm == "menu_access" and REPORTS_ENTRIES & set(view.split("|")) for view, perm in pairs
        ):
            pairs.append(REPORTS_MENU)
        if role != ADMIN:
            pairs.extend(EVERY_ROLE_GRANTS)
    # Regexes are matched with re.match: anchor them so "can_read" does not match "can_reader".
    return {
        role: [[f"^(?:{view})$", f"^(?:{perm})$"] for view, perm in pairs]
        for role, pairs in grants.items()
    }
