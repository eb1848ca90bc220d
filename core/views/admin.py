"""Administration screens: plugins per business line, and the reference data."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, IndexView, expose
from flask_appbuilder.models.sqla.filters import FilterInFunction
from flask_appbuilder.security.decorators import has_access
from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DecimalField, SelectField
from wtforms.validators import NumberRange, Optional, ValidationError

from core import limits
from core.extensions import db
from core.forms import select_choices
from core.models import BusinessLine, Customer, Department, LinePosition, Product
from core.services import lines as line_service
from core.services import positions
from core.services.access import can_view_contact, line_member_ids, visible_line_ids
from core.services.errors import ServiceError
from core.services.positions import POSITIONS_VIEW
from core.services.present import mask_email, mask_phone
from core.settings import SETTING_LABELS
from core.timeutil import is_valid_zone
from core.views.datamodel import AuditedInterface, AuditedModelView
from core.views.masking import MaskedColumnsMixin
from core.vocab import CUSTOMER_KINDS, CUSTOMER_LABELS, POSITIONS, choices


def my_line_ids() -> list[int]:
    """The signed-in user's line ids, for list filters and pickers."""
    return visible_line_ids(g.user)


def _timezone(form, field) -> None:
    if not is_valid_zone(field.data or ""):
        raise ValidationError(_l("Unknown timezone."))


class KesuIndexView(IndexView):
    """The home page: the signed-in user's work (我的工作); sign-in for anyone else."""

    index_template = "kesu/workspace.html"

    @expose("/")
    def index(self):
        from core.views.workspace import render_workspace

        if g.user is None or not g.user.is_authenticated:
            return redirect(self.appbuilder.get_url_for_login)
        return render_workspace(self)


class PluginAdminView(BaseView):
    """Every installed plugin with a switch per business line (Odoo-style)."""

    route_base = "/plugins"
    default_view = "matrix"
    class_permission_name = line_service.PLUGINS_VIEW
    base_permissions = ["can_configure"]
    method_permission_name = {"matrix": "configure", "switch": "configure", "settings": "configure"}

    @expose("/")
    @has_access
    def matrix(self):
        lines = list(db.session.scalars(sa.select(BusinessLine).order_by(BusinessLine.code)))
        rows = line_service.plugin_matrix()
        open_cases = {
            row["descriptor"].key: line_service.open_case_counts(row["descriptor"].key)
            for row in rows
        }
        return self.render_template(
            "kesu/plugins.html",
            settings_keys={
                key for key, values in line_service.registry().settings_defaults.items() if values
            },
            core_key=line_service.CORE_KEY,
            rows=rows,
            lines=lines,
            open_cases=open_cases,
            locale=str(get_locale()),
            plugin_names={
                row["descriptor"].key: row["descriptor"].name(str(get_locale())) for row in rows
            },
        )

    @expose("/<key>/<line>/settings", methods=["GET", "POST"])
    @has_access
    def settings(self, key: str, line: str):
        try:
            business_line = line_service.get_line(line)
            declared = line_service.declared_settings(key)
        except ServiceError:
            abort(404)
        errors: dict[str, list[str]] = {}
        if request.method == "POST":
            values = {name: request.form[name] for name in declared if name in request.form}
            try:
                line_service.update_plugin_settings(g.user, line, key, values)
            except ServiceError as exc:
                errors = exc.errors
                flash(str(exc.message), "danger")
            else:
                flash(str(_l("Settings saved.")), "success")
                return redirect(url_for("PluginAdminView.matrix"))
        current = line_service.effective_settings(business_line, key)
        shown = {
            name: request.form.get(name) if errors else _as_text(value)
            for name, value in current.items()
        }
        descriptor = line_service.registry().descriptors.get(key)
        return self.render_template(
            "kesu/plugin_settings.html",
            key=key,
            line=business_line,
            values=shown,
            errors=errors,
            core_key=line_service.CORE_KEY,
            labels=SETTING_LABELS
            if key == line_service.CORE_KEY
            else line_service.setting_labels(key),
            title=descriptor.name(str(get_locale())) if descriptor else _l("Core settings"),
        )

    @expose("/<key>/<line>/<state>", methods=["POST"])
    @has_access
    def switch(self, key: str, line: str, state: str):
        if state not in ("on", "off"):
            abort(404)
        descriptor = line_service.registry().descriptors.get(key)
        try:
            business_line = line_service.get_line(line)
        except ServiceError:
            abort(404)
        locale = str(get_locale())
        names = {
            "plugin": descriptor.name(locale) if descriptor else key,
            "line": business_line.name,
        }
        if state != "on" and request.form.get("confirm") != "yes" and descriptor is not None:
            # Disabling asks first, and says how many open cases of the category it leaves.
            open_cases = line_service.open_case_counts(key).get(business_line.id, 0)
            return self.render_template(
                "kesu/plugin_confirm.html",
                key=key,
                line=business_line,
                names=names,
                category=descriptor.category,
                open_cases=open_cases,
            )
        try:
            if state == "on":
                line_service.enable_plugin(g.user, line, key)
            else:
                line_service.disable_plugin(g.user, line, key)
        except ServiceError as exc:
            flash(str(exc.message), "danger")
        else:
            message = (
                gettext("%(plugin)s enabled on %(line)s.", **names)
                if state == "on"
                else gettext("%(plugin)s disabled on %(line)s.", **names)
            )
            flash(str(message), "success")
        return redirect(url_for("PluginAdminView.matrix"))


def _as_text(value) -> str:
    return ", ".join(value) if isinstance(value, list) else str(value)


# Each language by its own name, as language menus show them.
LANGUAGE_NAMES = {"zh_CN": "简体中文", "en": "English"}


class BusinessLineView(AuditedModelView):
    datamodel = AuditedInterface(BusinessLine, entity="business_line")
    class_permission_name = "BusinessLine"
    base_permissions = ["can_list", "can_show", "can_add", "can_edit"]
    list_title = show_title = _l("Business lines")
    add_title = _l("Add business line")
    edit_title = _l("Edit business line")
    list_columns = ["code", "name", "timezone", "locale", "active"]
    add_columns = edit_columns = show_columns = ["code", "name", "timezone", "locale", "active"]
    label_columns = {
        "code": _l("Code"),
        "name": _l("Name"),
        "timezone": _l("Timezone"),
        "locale": _l("Language"),
        "active": _l("Active"),
    }
    description_columns = {"timezone": _l("IANA name, e.g. Asia/Shanghai; times are shown in it.")}
    validators_columns = {"timezone": [_timezone]}
    # Internal columns (calendar revision, plugin settings, ...) are not searched by.
    search_columns = ["code", "name", "timezone", "active"]
    formatters_columns = {"locale": lambda value: LANGUAGE_NAMES.get(value, value)}
    add_form_extra_fields = edit_form_extra_fields = {
        "locale": SelectField(_l("Language"), choices=select_choices(list(LANGUAGE_NAMES.items()))),
        # A plain checkbox: FAB makes a NOT NULL boolean "required", which can never be unticked.
        "active": BooleanField(_l("Active")),
    }


class DepartmentView(AuditedModelView):
    datamodel = AuditedInterface(Department, entity="department")
    class_permission_name = "Department"
    base_permissions = ["can_list", "can_show", "can_add", "can_edit"]
    list_title = show_title = _l("Departments")
    add_title = _l("Add department")
    edit_title = _l("Edit department")
    list_columns = add_columns = edit_columns = show_columns = ["code", "name", "head"]
    search_columns = ["code", "name", "head"]
    label_columns = {"code": _l("Code"), "name": _l("Name"), "head": _l("Department head")}
    description_columns = {"head": _l("Told, with the handler, when a case is assigned here.")}
    # The head is picked among active staff (of the admin's lines; every line for an admin).
    add_form_query_rel_fields = edit_form_query_rel_fields = {
        "head": [["id", FilterInFunction, lambda: my_line_member_ids()]]
    }


def _masked_phone(value):
    if not value:
        return "—"
    return value if can_view_contact(g.user) else mask_phone(value)


def _masked_email(value):
    if not value:
        return "—"
    return value if can_view_contact(g.user) else mask_email(value)


def my_line_member_ids() -> list[int]:
    """The ids of the active users who belong to one of the signed-in user's lines."""
    return line_member_ids(g.user)


_LINE_RULE = [["business_line_id", FilterInFunction, my_line_ids]]
# Pickers (Flask-AppBuilder's form and search query_rel_fields): only the user's lines.
_LINE_PICKER = {"business_line": [["id", FilterInFunction, my_line_ids]]}
_POSITION_PICKERS = {
    **_LINE_PICKER,
    "user": [["id", FilterInFunction, my_line_member_ids]],
}


class CustomerView(MaskedColumnsMixin, AuditedModelView):
    datamodel = AuditedInterface(Customer, entity="customer")
    class_permission_name = "Customer"
    base_permissions = ["can_list", "can_show", "can_add", "can_edit"]
    base_filters = _LINE_RULE
    add_form_query_rel_fields = edit_form_query_rel_fields = _LINE_PICKER
    search_form_query_rel_fields = _LINE_PICKER
    masked_columns = frozenset({"phone", "email"})  # masked without the view-contact permission
    list_title = show_title = _l("Customers")
    add_title = _l("Add customer")
    edit_title = _l("Edit customer")
    list_columns = ["name", "kind", "contact", "phone", "email", "business_line"]
    show_columns = ["name", "kind", "contact", "phone", "email", "address", "business_line"]
    add_columns = edit_columns = [
        "business_line",
        "name",
        "kind",
        "contact",
        "phone",
        "email",
        "address",
    ]
    search_columns = ["name", "kind", "contact", "business_line"]
    formatters_columns = {
        "phone": _masked_phone,
        "email": _masked_email,
        "kind": lambda value: CUSTOMER_KINDS.get(value, value),
    }
    label_columns = CUSTOMER_LABELS
    add_form_extra_fields = edit_form_extra_fields = search_form_extra_fields = {
        "kind": SelectField(_l("Customer kind"), choices=select_choices(choices(CUSTOMER_KINDS))),
    }


class ProductView(AuditedModelView):
    datamodel = AuditedInterface(Product, entity="product")
    class_permission_name = "Product"
    base_permissions = ["can_list", "can_show", "can_add", "can_edit"]
    base_filters = _LINE_RULE
    add_form_query_rel_fields = edit_form_query_rel_fields = _LINE_PICKER
    search_form_query_rel_fields = _LINE_PICKER
    list_title = show_title = _l("Products")
    add_title = _l("Add product")
    edit_title = _l("Edit product")
    list_columns = ["code", "name", "unit_price", "business_line"]
    add_columns = edit_columns = show_columns = ["business_line", "code", "name", "unit_price"]
    search_columns = ["code", "name", "business_line"]
    label_columns = {
        "code": _l("Code"),
        "name": _l("Name"),
        "unit_price": _l("Unit price (CNY)"),
        "business_line": _l("Business line"),
    }
    add_form_extra_fields = edit_form_extra_fields = {
        "unit_price": DecimalField(
            _l("Unit price (CNY)"),
            places=2,
            validators=[Optional(), NumberRange(min=0, max=limits.UNIT_PRICE)],
        ),
    }


class LinePositionView(AuditedModelView):
    """Who holds which approval position on which business line."""

    datamodel = AuditedInterface(
        LinePosition, entity="line_position", deletable=True, check=positions.check
    )
    class_permission_name = POSITIONS_VIEW
    base_permissions = ["can_list", "can_show", "can_add", "can_edit", "can_delete"]
    base_filters = _LINE_RULE
    add_form_query_rel_fields = edit_form_query_rel_fields = _POSITION_PICKERS
    search_form_query_rel_fields = _POSITION_PICKERS
    list_title = show_title = _l("Positions")
    add_title = _l("Give a position")
    edit_title = _l("Edit position")
    list_columns = ["user", "business_line", "position"]
    add_columns = edit_columns = show_columns = ["user", "business_line", "position"]
    search_columns = ["user", "business_line", "position"]
    formatters_columns = {"position": lambda value: POSITIONS.get(value, value)}
    label_columns = {
        "user": _l("User"),
        "business_line": _l("Business line"),
        "position": _l("Position"),
    }
    add_form_extra_fields = edit_form_extra_fields = search_form_extra_fields = {
        "position": SelectField(_l("Position"), choices=select_choices(choices(POSITIONS))),
    }
