"""``/api/v1/sla/``: SLA attainment, overdue counts and at-risk customers (for supervisors)."""

from __future__ import annotations

from flask import request
from flask_appbuilder.api import expose, safe
from flask_appbuilder.security.decorators import protect

from core.api.base import KesuApi, current_actor, service_call
from core.services import sla, sla_customers, sla_reports
from core.services.lines import get_line


class SlaApi(KesuApi):
    resource_name = "sla"
    class_permission_name = sla.SLA_VIEW
    base_permissions = [sla.CAN_READ_SLA]
    method_permission_name = {"attainment": "read", "overdue": "read", "at_risk": "read"}
    openapi_spec_tag = "SLA"

    @expose("/attainment", methods=["GET"])
    @protect()
    @safe
    @service_call
    def attainment(self):
        """SLA attainment of a business line for the cases received in a period.
        ---
        get:
          summary: SLA attainment
          description: >-
            DOMAIN.md section 6's targets: registered within 1 working day (99 %), investigation
            and proposal within 5 (90 %), feedback and compensation within 10 (90 %), closed
            within 16 (100 %). Cases still within a deadline are pending and not counted.
          parameters:
          - {in: query, name: business_line, required: true, schema: {type: string, maxLength: 64}}
          - {in: query, name: from, required: true, schema: {type: string, format: date, maxLength: 10}, description: first day received (line's timezone)}
          - {in: query, name: to, required: true, schema: {type: string, format: date, maxLength: 10}, description: last day received (inclusive)}
          responses:
            200:
              description: One row per target
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      business_line: {type: string}
                      from: {type: string, format: date}
                      to: {type: string, format: date}
                      result:
                        type: array
                        items:
                          type: object
                          properties:
                            name: {type: string, enum: [registered, solution, compensation_done, closed]}
                            target: {type: number}
                            on_time: {type: integer}
                            missed: {type: integer}
                            pending: {type: integer}
                            rate: {type: number, nullable: true}
                            attained: {type: boolean, nullable: true}
                            missed_cases:
                              type: array
                              items:
                                type: object
                                properties:
                                  case_id: {type: integer}
                                  number: {type: string}
                                  due_at: {type: string, format: date-time}
                                  met_at: {type: string, format: date-time, nullable: true}
                                  late_minutes: {type: integer}
            400: {$ref: '#/components/responses/400'}
            401: {$ref: '#/components/responses/401'}
            403: {$ref: '#/components/responses/403'}
        """
        actor = current_actor()
        first, last = sla_reports.validate_period(request.args.get("from"), request.args.get("to"))
        line = get_line(request.args.get("business_line") or "")
        results = sla_reports.attainment(actor, line, first, last)
        return self.response(
            200,
            business_line=line.code,
            **{"from": first.isoformat(), "to": last.isoformat()},
            result=[r.as_dict() for r in results],
        )

    @expose("/overdue", methods=["GET"])
    @protect()
    @safe
    @service_call
    def overdue(self):
        """Cases with a passed running deadline, per stage and per responsible department.
        ---
        get:
          summary: Overdue counts
          responses:
            200:
              description: Counts on your business lines
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      stage: {type: object, additionalProperties: {type: integer}}
                      department: {type: object, additionalProperties: {type: integer}, description: 'by department name; "" not assigned yet'}
            401: {$ref: '#/components/responses/401'}
            403: {$ref: '#/components/responses/403'}
        """
        return self.response(200, **sla_reports.overdue_counts(current_actor()))

    @expose("/at-risk", methods=["GET"])
    @protect()
    @safe
    @service_call
    def at_risk(self):
        """Customers at risk: the line's number of complaints or returns within its window.
        ---
        get:
          summary: At-risk customers
          parameters:
          - {in: query, name: business_line, schema: {type: string, maxLength: 64}}
          responses:
            200:
              description: Customers, most cases first
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      result:
                        type: array
                        items:
                          type: object
                          properties:
                            customer_id: {type: integer}
                            name: {type: string}
                            business_line: {type: string}
                            count: {type: integer}
                            last_received_at: {type: string, format: date-time}
            401: {$ref: '#/components/responses/401'}
            403: {$ref: '#/components/responses/403'}
        """
        rows = sla_customers.at_risk_customers(
            current_actor(), line_code=request.args.get("business_line")
        )
        return self.response(
            200,
            result=[
                {
                    "customer_id": r.customer_id,
                    "name": r.name,
                    "business_line": r.line_code,
                    "count": r.count,
                    "last_received_at": r.last_received_at.isoformat(),
                }
                for r in rows
            ],
        )
