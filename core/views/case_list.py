"""The case list screen: filters, saved filters, bulk assignment and the Excel export.

:class:`CaseListMixin` gives :class:`core.views.cases.CaseView` its list routes, so their
endpoints stay ``CaseView.list``, ``CaseView.export``, ... Every filter is a GET parameter
checked by core.services.case_lists; a bad value answers the 400 page naming it.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from core import limits
from core.db import utcnow
from core.downloads import download_response
from core.extensions import db
from core.inputs import bad_input_response
from core.models import Department
from core.services import bulk_assign as bulk_service
from core.services import case_export, case_lists, saved_filters
from core.services.access import can, visible_lines
from core.services.errors import ServiceError
from core.services.lines import registry
from core.services.xlsx_cells import XLSX_MIME
from core.timeutil import in_zone, reader_zone
from core.vocab import DEADLINES, PRIORITIES
from core.workflow import STAGE_LABELS, STAGES

PAGE_SIZE = 20
TRAIL = 20  # how many pages back "Previous" goes


def _locale() -> str:
    return str(get_locale() or "zh_CN")


def category_label(key: str) -> str:
    descriptor = registry().descriptors.get(key)
    return descriptor.name(_locale()) if descriptor else key


def _filters_of(values) -> dict[str, str] | None:
    """The checked filters of ``values`` (a query string or a form's hidden fields)."""
    return case_lists.clean_filters(g.user, values)


def _field(exc: ServiceError) -> str:
    """The parameter a service error names."""
    return next(iter(exc.errors), "filters")


def _flash_error(exc: ServiceError) -> None:
    messages = [str(exc.message)]
    messages += [m for ms in exc.errors.values() for m in ms if m != str(exc.message)]
    flash(" ".join(messages), "danger")


class CaseListMixin:
    """The list routes of CaseView (route base ``/cases``)."""

    LIST_PERMISSIONS = {
        "list": "read",
        "export": "read",
        "bulk_assign": "read",  # the service checks can_assign (403 otherwise)
        "save_filter": "read",
        "delete_filter": "read",
    }

    @expose("/")
    @has_access
    def list(self):
        actor = g.user
        after = request.args.get("after") or None
        trail = _trail(request.args.get("prev", ""))
        try:
            filters = _filters_of(request.args)
            page = case_lists.list_page(actor, filters, after=after, page_size=PAGE_SIZE)
        except ServiceError as exc:
            return bad_input_response(_field(exc), exc.message)
        now = utcnow()
        can_assign = can(actor, "can_assign")
        handlers = case_lists.handler_choices(actor)
        earlier = [*trail, after or ""][-TRAIL:]
        return self.render_template(
            "kesu/case_list.html",
            cases=page.items,
            count=page.count,
            count_capped=page.capped,
            first_page=dict(filters) if after else None,
            previous_page={
                **filters,
                **({"after": trail[-1]} if trail[-1] else {}),
                **({"prev": ",".join(trail[:-1])} if len(trail) > 1 else {}),
            }
            if after and trail
            else None,
            next_page={**filters, "after": page.next, "prev": ",".join(earlier)}
            if page.next
            else None,
            filters=filters,
            filter_keys=case_lists.FILTERS,
            lines=visible_lines(actor),
            categories=[(d.key, d.name(_locale())) for d in registry().categories()],
            stages=[(s, STAGE_LABELS[s]) for s in STAGES],
            priorities=PRIORITIES,
            category_label=category_label,
            stage_labels=STAGE_LABELS,
            can_create=can(actor, "can_create"),
            in_zone=in_zone,
            deadline_labels=DEADLINES,
            now=now,
            handlers=handlers,
            has_department=actor.department_id is not None,
            saved=saved_filters.for_user(actor),
            can_assign=can_assign,
            departments=list(db.session.scalars(sa.select(Department).order_by(Department.code)))
            if can_assign
            else [],
            bulk_max=limits.BULK_ASSIGN,
        )

    @expose("/export")
    @has_access
    def export(self):
        try:
            filters = _filters_of(request.args)
            path, folder = case_export.export_cases(g.user, filters)
        except ServiceError as exc:
            if exc.status == 400:
                return bad_input_response(_field(exc), exc.message)
            _flash_error(exc)
            return redirect(url_for("CaseView.list", **_safe_filters(request.args)))
        try:
            data = path.read_bytes()
        finally:
            folder.cleanup()
        stamp = in_zone(utcnow(), reader_zone(g.user)).strftime("%Y%m%d-%H%M")
        name = f"{_l('Complaints')}-{stamp}.xlsx"
        return download_response(data, name, XLSX_MIME)

    @expose("/assign", methods=["POST"])
    @has_access
    def bulk_assign(self):
        actor = g.user
        if not can(actor, "can_assign"):
            abort(403)
        back = url_for("CaseView.list", **_safe_filters(request.form))
        try:
            outcomes = bulk_service.bulk_assign(
                actor,
                request.form.getlist("case"),
                request.form.get("to_handler", ""),
                request.form.get("to_department", ""),
            )
        except ServiceError as exc:
            if exc.status == 403:
                abort(403)
            _flash_error(exc)
            return redirect(back)
        done = sum(1 for o in outcomes if o.ok)
        flash(
            str(
                _l(
                    "%(done)s of %(n)s cases assigned; the others were left as they were.",
                    done=done,
                    n=len(outcomes),
                )
            ),
            "success" if done == len(outcomes) else "warning",
        )
        for outcome in outcomes:
            if not outcome.ok:
                flash(
                    f"{outcome.number or '#' + str(outcome.case_id)}: {outcome.message}", "danger"
                )
        return redirect(back)

    @expose("/filters", methods=["POST"])
    @has_access
    def save_filter(self):
        try:
            saved = saved_filters.save(g.user, request.form.get("name"), request.form)
        except ServiceError as exc:
            if exc.status == 400 and _field(exc) not in ("name", "filters"):
                return bad_input_response(_field(exc), exc.message)
            _flash_error(exc)
            return redirect(url_for("CaseView.list", **_safe_filters(request.form)))
        flash(str(_l("Filter saved.")), "success")
        return redirect(url_for("CaseView.list") + "?" + saved.query)

    @expose("/filters/<int:filter_id>/delete", methods=["POST"])
    @has_access
    def delete_filter(self, filter_id: int):
        try:
            saved_filters.delete(g.user, filter_id)
        except ServiceError:
            abort(404)
        flash(str(_l("Filter deleted.")), "success")
        return redirect(url_for("CaseView.list"))


def _trail(text: str) -> list[str]:
    """The cursors of the pages before this one (for "Previous"), the latest last; the first
    page is an empty cursor. Only the last TRAIL are kept; each is checked when followed."""
    if len(text) > TRAIL * 200:
        return []
    return text.split(",")[-TRAIL:] if text else []


def _safe_filters(values) -> dict[str, str]:
    """The filters of ``values`` to go back to, or none if any is bad."""
    try:
        return case_lists.clean_filters(g.user, values)
    except ServiceError:
        return {}
