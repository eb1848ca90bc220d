"""The audit trail screen: every event the reader may see as a sentence, chosen by filters,
and a check of the hash chain."""

from __future__ import annotations

from babel.dates import get_timezone_location
from flask import g, request
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from core.roles import AUDIT
from core.services import audit_anchor, audit_filters, history
from core.services.errors import Invalid
from core.timeutil import reader_zone

PAGE_SIZE = 50
FIELD_NAMES = {
    "case": _l("Case number"),
    "entity": _l("Record type"),
    "action": _l("Action"),
    "person": _l("Person"),
    "from": _l("From"),
    "to": _l("To"),
    "page": _l("Page"),
}


class AuditView(BaseView):
    route_base = "/audit"
    default_view = "events"
    class_permission_name = AUDIT
    base_permissions = ["can_read"]
    method_permission_name = {"events": "read", "verify": "read"}

    def _page(self, verified=None):
        actor = g.user
        tz = reader_zone(actor)
        offered = audit_filters.choices(actor)
        try:
            filters = audit_filters.parse(actor, request.args, offered)
        except Invalid as exc:
            return self._bad_filter(exc)
        events, total = audit_filters.page(actor, filters, tz, PAGE_SIZE)
        return self.render_template(
            "kesu/audit.html",
            tz=tz,
            tz_label=zone_label(tz),
            entries=history.entries(actor, events, tz),
            total=total,
            page=filters.page,
            pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
            filters=filters.args,
            offered=offered,
            entity_labels=dict(offered.entities),
            verified=verified,
        )

    def _bad_filter(self, exc: Invalid):
        key = next(iter(exc.errors), "")
        message = str(
            _l(
                "The filter “%(field)s” is not valid: %(reason)s",
                field=str(FIELD_NAMES.get(key, key)),
                reason=str(exc.message),
            )
        )
        page = self.render_template(
            "kesu/error.html", code=400, title=str(_l("The request is not valid.")), message=message
        )
        return page, 400

    @expose("/")
    @has_access
    def events(self):
        return self._page()

    @expose("/verify", methods=["POST"])
    @has_access
    def verify(self):
        return self._page(verified=audit_anchor.verify_anchored().result)


def zone_label(tz: str) -> str:
    """The reader's name of a time zone by its place (中国（上海）时间); a zone without a place
    (UTC) by its own name."""
    if tz in ("UTC", "Etc/UTC", "GMT", "Etc/GMT"):
        return "UTC"
    return get_timezone_location(tz, locale=get_locale())
