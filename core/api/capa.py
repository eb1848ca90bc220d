"""``/api/v1/capa/``: the register of corrective and preventive actions across cases."""

from __future__ import annotations

from flask import request
from flask_appbuilder.api import expose, safe
from flask_appbuilder.security.decorators import protect

from core.api.base import KesuApi, current_actor, service_call
from core.downloads import dated_workbook
from core.roles import CAPA
from core.services import capa, capa_export

_FILTERS = """
          - {in: query, name: business_line, schema: {type: string, maxLength: 64}, description: a business line code (yours)}
          - {in: query, name: department, schema: {type: string, maxLength: 64}, description: the owner department's code}
          - {in: query, name: kind, schema: {type: string, enum: [corrective, preventive]}}
          - {in: query, name: status, schema: {type: string, enum: [open, done, effective, ineffective]}}
          - {in: query, name: overdue, schema: {type: boolean}, description: open past its due day}
          - {in: query, name: due_from, schema: {type: string, format: date, maxLength: 10}}
          - {in: query, name: due_to, schema: {type: string, format: date, maxLength: 10}}"""


def _doc(text: str) -> str:
    return text.replace("          {FILTERS}", _FILTERS.strip("\n"))


class CapaApi(KesuApi):
    resource_name = "capa"
    class_permission_name = CAPA
    base_permissions = [capa.CAN_READ]
    method_permission_name = {"get_list": "read", "xlsx": "read"}
    openapi_spec_tag = "CAPA register"

    @expose("/", methods=["GET"])
    @protect()
    @safe
    @service_call
    def get_list(self):
        actor = current_actor()
        filters = capa.clean_filters(actor, request.args)
        rows = capa.register(actor, filters)
        lines, departments = capa.line_names(), capa.department_names()
        return self.response(
            200,
            count=len(rows),
            result=[
                {
                    "case_id": r.case_id,
                    "case_number": r.case_number,
                    "business_line": lines.get(r.business_line_id),
                    "department": departments.get(r.department_id) if r.department_id else None,
                    "kind": r.kind,
                    "description": r.description,
                    "responsible_unit": r.responsible_unit,
                    "due_date": r.due_date.isoformat(),
                    "done_at": r.done_at.isoformat() if r.done_at else None,
                    "status": r.status,
                    "overdue": r.overdue,
                    "done_late": r.done_late,
                }
                for r in rows
            ],
        )

    get_list.__doc__ = _doc(
        """The corrective and preventive actions of your lines' cases, overdue first.
        ---
        get:
          summary: The CAPA register
          description: >-
            Every action with its owner department (the case's responsible department), due
            date, status and overdue flag. A responsible department sees its own actions only.
          parameters:
          {FILTERS}
          responses:
            200:
              description: The actions
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      count: {type: integer}
                      result:
                        type: array
                        items:
                          type: object
                          properties:
                            case_id: {type: integer}
                            case_number: {type: string}
                            business_line: {type: string}
                            department: {type: string, nullable: true}
                            kind: {type: string, enum: [corrective, preventive]}
                            description: {type: string}
                            responsible_unit: {type: string}
                            due_date: {type: string, format: date}
                            done_at: {type: string, format: date-time, nullable: true}
                            status: {type: string, enum: [open, done, effective, ineffective]}
                            overdue: {type: boolean}
                            done_late: {type: boolean}
        """
    )

    @expose("/xlsx", methods=["GET"])
    @protect()
    @safe
    @service_call
    def xlsx(self):
        actor = current_actor()
        return register_file_response(actor, capa.clean_filters(actor, request.args))

    xlsx.__doc__ = _doc(
        """The filtered register as an Excel workbook (headers in your language).
        ---
        get:
          summary: Export the CAPA register
          parameters:
          {FILTERS}
          responses:
            200: {$ref: '#/components/responses/Workbook'}
        """
    )


def register_file_response(actor, filters):
    return dated_workbook(
        capa_export.export_register(actor, filters), capa_export.file_title(), actor
    )
