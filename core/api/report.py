"""``/api/v1/report/``: management reports of a business line (the monthly report)."""

from __future__ import annotations

from flask import request
from flask_appbuilder.api import expose, safe
from flask_appbuilder.security.decorators import protect

from core.api.base import KesuApi, current_actor, service_call
from core.deadlines import TARGETS
from core.downloads import download_response
from core.roles import CAN_READ, REPORT
from core.services import (
    accountability,
    accountability_xlsx,
    report_monthly,
    report_monthly_xlsx,
)
from core.services.xlsx_cells import XLSX_MIME
from core.vocab import COMPENSATION_KINDS

_COUNTS = {"type": "object", "additionalProperties": {"type": "integer"}}
_NUMBER_OR_NULL = {"type": "number", "nullable": True}
_MISSED = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "case_id": {"type": "integer"},
            "number": {"type": "string"},
            "due_at": {"type": "string", "format": "date-time"},
            "met_at": {"type": "string", "format": "date-time", "nullable": True},
            "late_minutes": {"type": "integer"},
        },
    },
}
_TOP = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "key": {"type": "string"},
            "name": {"type": "string"},
            "count": {"type": "integer"},
            "cost": {"type": "number"},
        },
    },
}
MONTHLY_FIGURES = {
    "type": "object",
    "properties": {
        "month": {"type": "string", "example": "2026-11"},
        "from": {"type": "string", "format": "date"},
        "to": {"type": "string", "format": "date"},
        "total": {"type": "integer", "description": "Cases received in the month"},
        "counts": {
            "type": "object",
            "description": 'Cases per value; "" is none (root cause: not classified)',
            "properties": {key: _COUNTS for key in report_monthly.DIMENSIONS},
        },
        "opened": {"type": "integer", "description": "Received in the month"},
        "closed": {"type": "integer", "description": "Closed within the month"},
        "open_at_end": {"type": "integer", "description": "Received by its end, not closed"},
        "sla": {
            "type": "object",
            "properties": {
                name: {
                    "type": "object",
                    "properties": {
                        "rate": _NUMBER_OR_NULL,
                        "met": {"type": "integer"},
                        "missed": {"type": "integer"},
                        "pending": {"type": "integer"},
                        "target": {"type": "number"},
                        "attained": {"type": "boolean", "nullable": True},
                    },
                }
                for name in TARGETS
            },
        },
        "missed_cases": {"type": "object", "properties": {name: _MISSED for name in TARGETS}},
        "compensation": {
            "type": "object",
            "description": "CNY per kind, cancelled lines left out",
            "properties": {kind: {"type": "number"} for kind in COMPENSATION_KINDS},
        },
        "satisfaction": {
            "type": "object",
            "properties": {
                "average": _NUMBER_OR_NULL,
                "count": {"type": "integer", "description": "Return visits done"},
                "distribution": _COUNTS,
            },
        },
        "products": {"type": "object", "additionalProperties": {"type": "string"}},
        "top": {
            "type": "object",
            "properties": {
                "product_by_count": _TOP,
                "product_by_cost": _TOP,
                "batch_by_count": _TOP,
                "batch_by_cost": _TOP,
            },
        },
    },
}
MONTHLY_REPORT = {
    "allOf": [
        {"$ref": "#/components/schemas/MonthlyFigures"},
        {
            "type": "object",
            "properties": {
                "business_line": {"type": "string"},
                "business_line_name": {"type": "string"},
                "timezone": {"type": "string"},
                "previous": {"$ref": "#/components/schemas/MonthlyFigures"},
                "change": {
                    "type": "object",
                    "properties": {
                        "total": {"type": "integer"},
                        "opened": {"type": "integer"},
                        "closed": {"type": "integer"},
                        "open_at_end": {"type": "integer"},
                        "compensation": {
                            "type": "object",
                            "additionalProperties": {"type": "number"},
                        },
                        "sla": {"type": "object", "additionalProperties": _NUMBER_OR_NULL},
                        "satisfaction": _NUMBER_OR_NULL,
                    },
                },
            },
        },
    ]
}


_MONEY_BY_KIND = {
    "type": "object",
    "description": "CNY per kind: approved, not cancelled lines of the liable cases",
    "properties": {kind: {"type": "number"} for kind in accountability.KINDS},
}
_REPEATS = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "label": {"type": "string"},
            "cases": {"type": "integer"},
        },
    },
}
_ACCOUNTABLE = {
    "cases": {"type": "integer", "description": "Cases of the period assigned"},
    "liable": {"type": "integer", "description": "Of which found liable"},
    "compensation": _MONEY_BY_KIND,
    "compensation_total": {"type": "number"},
    "deadlines_missed": {"type": "integer"},
    "repeats": {"type": "integer", "description": "Cases beyond the first of a repeated entry"},
    "repeat_root_causes": _REPEATS,
}
ACCOUNTABILITY = {
    "type": "object",
    "properties": {
        "business_line": {"type": "string", "nullable": True},
        "business_line_name": {"type": "string", "nullable": True},
        "lines": {"type": "array", "items": {"type": "string"}},
        "from": {"type": "string", "format": "date"},
        "to": {"type": "string", "format": "date"},
        "deadlines": {"type": "array", "items": {"type": "string"}},
        "departments": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "department_id": {"type": "integer"},
                    "code": {"type": "string"},
                    "name": {"type": "string"},
                    **_ACCOUNTABLE,
                    "capa_overdue": {"type": "integer"},
                    "capa_ineffective": {"type": "integer"},
                },
            },
        },
        "people": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "key": {"type": "string"},
                    "user_id": {"type": "integer", "nullable": True},
                    "name": {"type": "string"},
                    "department": {"type": "string"},
                    **_ACCOUNTABLE,
                    "charged": {"type": "number", "description": "Costs charged to the person"},
                    "charged_cases": {"type": "integer"},
                },
            },
        },
    },
}


def _accountability():
    args = request.args
    return accountability.report(
        current_actor(), args.get("business_line"), args.get("from"), args.get("to")
    )


class ReportApi(KesuApi):
    resource_name = "report"
    class_permission_name = REPORT
    base_permissions = [CAN_READ]
    method_permission_name = {
        "monthly": "read",
        "monthly_xlsx": "read",
        "accountability": "read",
        "accountability_xlsx": "read",
    }
    openapi_spec_tag = "Reports"

    def add_apispec_components(self, api_spec) -> None:
        super().add_apispec_components(api_spec)
        if "MonthlyFigures" not in api_spec.components.schemas:
            api_spec.components.schema("MonthlyFigures", MONTHLY_FIGURES)
            api_spec.components.schema("MonthlyReport", MONTHLY_REPORT)
            api_spec.components.schema("Accountability", ACCOUNTABILITY)

    @expose("/monthly", methods=["GET"])
    @protect()
    @safe
    @service_call
    def monthly(self):
        """The monthly report of a business line.
        ---
        get:
          summary: Monthly report
          description: >-
            The cases of a business line received in a month (the line's time zone): counts by
            category, channel, product, batch, root cause, responsible department and priority;
            opened, closed and still open at the month's end; SLA attainment against DOMAIN.md
            section 6's targets with the cases that missed; compensation totals by kind;
            satisfaction from the return visits; top products and batches; the same figures for
            the previous month (previous) and the change.
          parameters:
          - {in: query, name: business_line, required: true, schema: {type: string, maxLength: 64}}
          - {in: query, name: month, required: true, schema: {type: string, pattern: '^[0-9]{4}-[0-9]{2}$', maxLength: 7}, description: 'YYYY-MM'}
          responses:
            200:
              description: The figures
              content:
                application/json:
                  schema: {$ref: '#/components/schemas/MonthlyReport'}
            400: {$ref: '#/components/responses/400'}
            401: {$ref: '#/components/responses/401'}
            403: {$ref: '#/components/responses/403'}
            404: {$ref: '#/components/responses/404'}
        """
        report = report_monthly.monthly(
            current_actor(), request.args.get("business_line"), request.args.get("month")
        )
        return self.response(200, **report)

    @expose("/monthly.xlsx", methods=["GET"])
    @protect()
    @safe
    @service_call
    def monthly_xlsx(self):
        """The monthly report as an Excel workbook with charts, in the reader's language.
        ---
        get:
          summary: Monthly report workbook
          parameters:
          - {in: query, name: business_line, required: true, schema: {type: string, maxLength: 64}}
          - {in: query, name: month, required: true, schema: {type: string, pattern: '^[0-9]{4}-[0-9]{2}$', maxLength: 7}, description: 'YYYY-MM'}
          responses:
            200:
              description: The workbook, as an attachment
              content:
                application/vnd.openxmlformats-officedocument.spreadsheetml.sheet:
                  schema: {type: string, format: binary}
            400: {$ref: '#/components/responses/400'}
            401: {$ref: '#/components/responses/401'}
            403: {$ref: '#/components/responses/403'}
            404: {$ref: '#/components/responses/404'}
        """
        report = report_monthly.monthly(
            current_actor(), request.args.get("business_line"), request.args.get("month")
        )
        content = report_monthly_xlsx.workbook(report)
        return download_response(content, report_monthly_xlsx.filename(report), XLSX_MIME)

    @expose("/accountability", methods=["GET"])
    @protect()
    @safe
    @service_call
    def accountability(self):
        """Accountability (考核) per responsible department and per person for a period.
        ---
        get:
          summary: Accountability
          description: >-
            For the cases received in the period (each line's local days) on a business line,
            or on every line the reader sees: per responsible department and per person (the
            handler, or the person a cost was charged to) the cases assigned, found liable
            (a root cause recorded that is not the customer's own fault), the compensation of
            the liable cases by kind, costs charged to the person, deadlines of the stages
            after assignment missed, corrective actions overdue or found not effective, and
            repeated root causes. Definitions in core/services/accountability.py.
          parameters:
          - {in: query, name: business_line, schema: {type: string, maxLength: 64}, description: 'a line code; every line the reader sees when left out'}
          - {in: query, name: from, required: true, schema: {type: string, format: date, maxLength: 10}, description: 'first day, YYYY-MM-DD (line-local)'}
          - {in: query, name: to, required: true, schema: {type: string, format: date, maxLength: 10}, description: 'last day, YYYY-MM-DD (line-local)'}
          responses:
            200:
              description: The figures
              content:
                application/json:
                  schema: {$ref: '#/components/schemas/Accountability'}
            400: {$ref: '#/components/responses/400'}
            401: {$ref: '#/components/responses/401'}
            403: {$ref: '#/components/responses/403'}
        """
        return self.response(200, **_accountability())

    @expose("/accountability.xlsx", methods=["GET"])
    @protect()
    @safe
    @service_call
    def accountability_xlsx(self):
        """The accountability report as an Excel workbook (departments, people).
        ---
        get:
          summary: Accountability workbook
          parameters:
          - {in: query, name: business_line, schema: {type: string, maxLength: 64}, description: 'a line code; every line the reader sees when left out'}
          - {in: query, name: from, required: true, schema: {type: string, format: date, maxLength: 10}, description: 'first day, YYYY-MM-DD (line-local)'}
          - {in: query, name: to, required: true, schema: {type: string, format: date, maxLength: 10}, description: 'last day, YYYY-MM-DD (line-local)'}
          responses:
            200: {$ref: '#/components/responses/Workbook'}
            400: {$ref: '#/components/responses/400'}
            401: {$ref: '#/components/responses/401'}
            403: {$ref: '#/components/responses/403'}
        """
        report = _accountability()
        content = accountability_xlsx.workbook(report)
        return download_response(content, accountability_xlsx.filename(report), XLSX_MIME)
