"""Return visits (回访): ``POST /api/v1/case/<id>/visit`` and ``/api/v1/visit/...`` lists."""

from __future__ import annotations

from flask_appbuilder.api import expose, safe
from flask_appbuilder.security.decorators import protect

from core.api.base import KesuApi, current_actor, json_body, service_call
from core.api.schemas import VISIT_SCHEMA
from core.roles import VISIT
from core.services import visits
from core.services.present import case_json


class CaseVisitApi(KesuApi):
    resource_name = "case"
    class_permission_name = VISIT
    base_permissions = ["can_record"]
    method_permission_name = {"record": "record"}
    openapi_spec_tag = "Cases"

    @expose("/<int:pk>/visit", methods=["POST"])
    @protect()
    @safe
    @service_call
    def record(self, pk: int):
        """Record a return visit (回访) on a closed case.
        ---
        post:
          summary: Record a return visit
          description: >-
            Customer service, once the case is closed (409 otherwise). ``visited_at`` without an
            offset is read in the line's timezone; it may be neither in the future nor before
            the case was closed (400 naming visited_at). A satisfaction of 2 or lower puts the
            case on the supervisor's reopen list.
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  properties:
                    visited_at: {type: string, format: date-time, maxLength: 40}
                    channel: {type: string, enum: [phone, on_site, wechat, email, sms, other]}
                    satisfaction: {type: integer, minimum: 1, maximum: 5}
                    comment: {type: string, maxLength: 5000, nullable: true}
                  required: [visited_at, channel, satisfaction]
                  additionalProperties: false
          responses:
            201: {$ref: '#/components/responses/CaseResult'}
        """
        actor = current_actor()
        case = visits.record(actor, pk, json_body())
        return self.response(201, id=case.id, result=case_json(actor, case))


_CASE_REF = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "number": {"type": "string"},
        "business_line": {"type": "string"},
        "customer": {"type": "string", "nullable": True},
    },
}
DUE_ITEM = {
    "type": "object",
    "properties": {
        "case": _CASE_REF,
        "closed_at": {"type": "string", "format": "date-time"},
        "due_at": {"type": "string", "format": "date-time"},
        "overdue": {"type": "boolean"},
    },
}
REOPEN_ITEM = {
    "type": "object",
    "properties": {**VISIT_SCHEMA["properties"], "case": _CASE_REF},
}


class VisitApi(KesuApi):
    resource_name = "visit"
    class_permission_name = VISIT
    base_permissions = ["can_read", "can_dismiss"]
    method_permission_name = {"due": "read", "reopen": "dismiss", "dismiss": "dismiss"}
    openapi_spec_tag = "Return visits"

    def add_apispec_components(self, api_spec) -> None:
        super().add_apispec_components(api_spec)
        for name, schema in (("VisitDue", DUE_ITEM), ("VisitReopen", REOPEN_ITEM)):
            if name not in api_spec.components.schemas:
                api_spec.components.schema(name, schema)

    @expose("/due", methods=["GET"])
    @protect()
    @safe
    @service_call
    def due(self):
        """Closed cases still waiting for their return visit.
        ---
        get:
          summary: Return visits due
          description: >-
            Closed cases of the caller's lines with no visit since their latest closing, due
            the line's visit_due_days working days after closing; overdue first.
          responses:
            200:
              description: The cases waiting for a visit
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      count: {type: integer}
                      result: {type: array, items: {$ref: '#/components/schemas/VisitDue'}}
        """
        items = visits.due(current_actor())
        return self.response(200, count=len(items), result=[visits.due_json(i) for i in items])

    @expose("/reopen", methods=["GET"])
    @protect()
    @safe
    @service_call
    def reopen(self):
        """The supervisor's reopen list: visits scored 2 or lower, not yet reopened or dismissed.
        ---
        get:
          summary: Reopen list
          description: CS supervisors; the caller's lines only.
          responses:
            200:
              description: The visits waiting for the supervisor
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      count: {type: integer}
                      result: {type: array, items: {$ref: '#/components/schemas/VisitReopen'}}
        """
        rows = visits.reopen_list(current_actor())
        return self.response(200, count=len(rows), result=[visits.reopen_json(v) for v in rows])

    @expose("/<int:visit_id>/dismiss", methods=["POST"])
    @protect()
    @safe
    @service_call
    def dismiss(self, visit_id: int):
        """Take a visit off the reopen list without reopening the case, with the reason.
        ---
        post:
          summary: Dismiss a reopen request
          parameters:
          - {in: path, name: visit_id, required: true, schema: {type: integer}}
          requestBody:
            required: true
            content:
              application/json:
                schema: {$ref: '#/components/schemas/Reason'}
          responses:
            200:
              description: The visit after the change
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      id: {type: integer}
                      result: {$ref: '#/components/schemas/VisitReopen'}
        """
        visit = visits.dismiss(current_actor(), visit_id, json_body())
        return self.response(200, id=visit.id, result=visits.reopen_json(visit))
