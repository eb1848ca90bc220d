"""The audit trail screen: every event the reader may see, and a check of the hash chain."""

from __future__ import annotations

import json

from flask import g, request
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access

from core.roles import AUDIT
from core.services import audit, audit_anchor
from core.timeutil import in_zone, reader_zone

PAGE_SIZE = 50


class AuditView(BaseView):
    route_base = "/audit"
    default_view = "events"
    class_permission_name = AUDIT
    base_permissions = ["can_read"]
    method_permission_name = {"events": "read", "verify": "read"}

    def _page(self, verified=None):
        try:
            page = max(int(request.args.get("page", 1)), 1)
        except ValueError:
            page = 1
        filters = {
            k: request.args.get(k)
            for k in ("case", "actor", "entity", "action")
            if request.args.get(k)
        }
        events, total = audit.list_events(g.user, filters, page=page, page_size=PAGE_SIZE)
        numbers = audit.case_numbers({e.case_id for e in events if e.case_id})
        return self.render_template(
            "kesu/audit.html",
            tz=reader_zone(g.user),
            events=events,
            total=total,
            page=page,
            pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
            filters=filters,
            numbers=numbers,
            verified=verified,
            in_zone=in_zone,
            as_text=lambda value: json.dumps(value, ensure_ascii=False),
        )

    @expose("/")
    @has_access
    def events(self):
        return self._page()

    @expose("/verify", methods=["POST"])
    @has_access
    def verify(self):
        return self._page(verified=audit_anchor.verify_anchored().result)
