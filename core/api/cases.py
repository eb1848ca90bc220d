"""``/api/v1/case/``: intake, reading, editing, workflow actions and evidence."""

from __future__ import annotations

from apispec.exceptions import DuplicateComponentNameError
from flask import request
from flask_appbuilder.api import expose, safe
from flask_appbuilder.security.decorators import protect
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from core import fields, limits
from core.api import schemas
from core.api.base import KesuApi, current_actor, json_body, service_call
from core.downloads import download_response
from core.services import case_query, sla_priority, workflow
from core.services import cases as case_service
from core.services import compensation as compensation_service
from core.services import evidence as evidence_service
from core.services.access import get_case, line_for_write
from core.services.errors import Invalid
from core.services.lines import line_facts, registry
from core.services.present import case_json, evidence_json

MAX_PAGE_SIZE = limits.PAGE_SIZE


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise Invalid(_l("Must be a whole number."), field=name) from None
    if not low <= value <= high:
        raise Invalid(
            str(_l("Must be between %(low)s and %(high)s.", low=low, high=high)), field=name
        )
    return value


class CaseApi(KesuApi):
    resource_name = "case"
    class_permission_name = "Case"
    base_permissions = ["can_read", "can_create", "can_edit", "can_upload"]
    method_permission_name = {
        "get_list": "read",
        "get": "read",
        "post": "create",
        "put": "edit",
        "action": "read",  # each action checks its own can_<action> in the service
        "upload_evidence": "upload",
        "download_evidence": "read",
        "intake_fields": "read",
        "compensation": "read",  # the service checks the right to change a proposal
        "inbox": "read",
        "priority": "read",  # the service checks can_set_priority
    }
    openapi_spec_tag = "Cases"

    def add_apispec_components(self, api_spec) -> None:
        super().add_apispec_components(api_spec)
        details = schemas.details_schemas()
        components = {
            **details,
            "Case": schemas.CASE_SCHEMA,
            "Evidence": schemas.EVIDENCE_SCHEMA,
            "CompensationLineOut": schemas.COMPENSATION_LINE_SCHEMA,
            "CaseCreate": schemas.case_create_schema(list(details)),
            "CaseUpdate": schemas.case_update_schema(list(details)),
            "CaseAction": schemas.ACTION_SCHEMA,
            "CompensationEdit": schemas.compensation_edit_schema(),
            "PriorityChange": schemas.PRIORITY_CHANGE_SCHEMA,
            "Deadline": schemas.DEADLINE_SCHEMA,
        }
        for name, schema in components.items():
            try:
                api_spec.components.schema(name, schema)
            except DuplicateComponentNameError:
                pass

    @expose("/", methods=["GET"])
    @protect()
    @safe
    @service_call
    def get_list(self):
        """List the cases of your business lines, newest first.
        ---
        get:
          summary: List cases
          description: >-
            Keyset paging: the answer's `next` is the position after its last case; ask for the
            same URL with `after=<next>` for the next page (a case registered in between is
            neither skipped nor shown twice). `count` stops at 1,000 (`count_capped`: more).
          parameters:
          - {in: query, name: after, schema: {type: string, maxLength: 200}, description: 'the `next` of the previous page'}
          - {in: query, name: page_size, schema: {type: integer, minimum: 1, maximum: 100, default: 20}}
          - {in: query, name: business_line, schema: {type: string, maxLength: 200}, description: line code}
          - {in: query, name: category, schema: {type: string, maxLength: 200}}
          - {in: query, name: status, schema: {type: string, maxLength: 200}}
          - {in: query, name: priority, schema: {type: string, enum: [P1, P2, P3]}}
          - {in: query, name: is_major, schema: {type: boolean}}
          - {in: query, name: overdue, schema: {type: boolean}, description: a running deadline has passed}
          - {in: query, name: archived, schema: {type: boolean}, description: 'the archived cases instead of the working ones (archived cases are read-only; the ledger has both)'}
          - {in: query, name: q, schema: {type: string, maxLength: 200}, description: 'the start of the case number, the batch number or the customer name'}
          - {in: query, name: sort, schema: {type: string, enum: [received, deadline], default: received}, description: 'newest first, or the soonest running deadline first'}
          responses:
            200:
              description: A page of cases (without evidence, compensation and approvals)
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      count: {type: integer, maximum: 1000}
                      count_capped: {type: boolean}
                      next: {type: string, nullable: true}
                      page_size: {type: integer}
                      result: {type: array, items: {$ref: '#/components/schemas/Case'}}
            400: {$ref: '#/components/responses/400'}
            401: {$ref: '#/components/responses/401'}
        """
        actor = current_actor()
        page_size = _int_arg("page_size", 20, 1, MAX_PAGE_SIZE)
        filters = {k: request.args.get(k) for k in case_query.LIST_FILTERS if request.args.get(k)}
        page = case_query.list_cases(
            actor, filters, after=request.args.get("after") or None, page_size=page_size
        )
        return self.response(
            200,
            count=page.count,
            count_capped=page.capped,
            next=page.next,
            page_size=page_size,
            result=[case_json(actor, c, summary=True) for c in page.items],
        )

    @expose("/<int:pk>", methods=["GET"])
    @protect()
    @safe
    @service_call
    def get(self, pk: int):
        """Read one case.
        ---
        get:
          summary: Read a case
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          responses:
            200:
              description: The case
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      id: {type: integer}
                      result: {$ref: '#/components/schemas/Case'}
            404: {$ref: '#/components/responses/404'}
        """
        actor = current_actor()
        case = get_case(actor, pk)
        return self.response(200, id=case.id, result=case_json(actor, case))

    @expose("/", methods=["POST"])
    @protect()
    @safe
    @service_call
    def post(self):
        """Register a case (登记).
        ---
        post:
          summary: Register a case
          requestBody:
            required: true
            content:
              application/json:
                schema: {$ref: '#/components/schemas/CaseCreate'}
          responses:
            201:
              description: Registered
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      id: {type: integer}
                      result: {$ref: '#/components/schemas/Case'}
            400: {$ref: '#/components/responses/400'}
            403: {$ref: '#/components/responses/403'}
        """
        actor = current_actor()
        case = case_service.create_case(actor, json_body())
        return self.response(201, id=case.id, result=case_json(actor, case))

    @expose("/<int:pk>", methods=["PUT"])
    @protect()
    @safe
    @service_call
    def put(self, pk: int):
        """Edit a case; send the ``version`` you last saw.
        ---
        put:
          summary: Edit a case
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          requestBody:
            required: true
            content:
              application/json:
                schema: {$ref: '#/components/schemas/CaseUpdate'}
          responses:
            200:
              description: The edited case
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      id: {type: integer}
                      result: {$ref: '#/components/schemas/Case'}
            400: {$ref: '#/components/responses/400'}
            403: {$ref: '#/components/responses/403'}
            404: {$ref: '#/components/responses/404'}
            409: {$ref: '#/components/responses/409'}
        """
        actor = current_actor()
        case = case_service.update_case(actor, pk, json_body())
        return self.response(200, id=case.id, result=case_json(actor, case))

    @expose("/<int:pk>/action/<name>", methods=["POST"])
    @protect()
    @safe
    @service_call
    def action(self, pk: int, name: str):
        """Run a workflow action on a case.
        ---
        post:
          summary: Run a workflow action
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          - in: path
            name: name
            required: true
            schema:
              type: string
              enum: [accept, reject, assign, propose, submit, approve, refuse, execute, confirm, verify, close, reopen, hold, resume]
          requestBody:
            content:
              application/json:
                schema: {$ref: '#/components/schemas/CaseAction'}
          responses:
            200:
              description: The case after the action
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      id: {type: integer}
                      result: {$ref: '#/components/schemas/Case'}
            400: {$ref: '#/components/responses/400'}
            403: {$ref: '#/components/responses/403'}
            404: {$ref: '#/components/responses/404'}
            409: {$ref: '#/components/responses/409'}
            422: {$ref: '#/components/responses/422'}
        """
        actor = current_actor()
        payload = json_body() if request.content_length else {}
        case = workflow.run_action(actor, pk, name, payload)
        return self.response(200, id=case.id, result=case_json(actor, case))

    @expose("/<int:pk>/compensation", methods=["PUT"])
    @protect()
    @safe
    @service_call
    def compensation(self, pk: int):
        """Replace the compensation lines of a proposal, with the reason.
        ---
        put:
          summary: Edit compensation lines
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          requestBody:
            required: true
            content:
              application/json:
                schema: {$ref: '#/components/schemas/CompensationEdit'}
          responses:
            200:
              description: The case with its new lines
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      id: {type: integer}
                      result: {$ref: '#/components/schemas/Case'}
            400: {$ref: '#/components/responses/400'}
            403: {$ref: '#/components/responses/403'}
            404: {$ref: '#/components/responses/404'}
            409: {$ref: '#/components/responses/409'}
            422: {$ref: '#/components/responses/422'}
        """
        actor = current_actor()
        case = compensation_service.set_compensation(actor, pk, json_body())
        return self.response(200, id=case.id, result=case_json(actor, case))

    @expose("/<int:pk>/priority", methods=["POST"])
    @protect()
    @safe
    @service_call
    def priority(self, pk: int):
        """Set the case's priority by hand with a reason, or hand it back to the rules (null).
        ---
        post:
          summary: Change the priority
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          requestBody:
            required: true
            content:
              application/json:
                schema: {$ref: '#/components/schemas/PriorityChange'}
          responses:
            200:
              description: The case with its new priority and deadlines
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      id: {type: integer}
                      result: {$ref: '#/components/schemas/Case'}
            400: {$ref: '#/components/responses/400'}
            403: {$ref: '#/components/responses/403'}
            404: {$ref: '#/components/responses/404'}
            409: {$ref: '#/components/responses/409'}
            422: {$ref: '#/components/responses/422'}
        """
        actor = current_actor()
        case = sla_priority.set_priority(actor, pk, json_body())
        return self.response(200, id=case.id, result=case_json(actor, case))

    @expose("/inbox", methods=["GET"])
    @protect()
    @safe
    @service_call
    def inbox(self):
        """The cases whose pending approval step you may decide.
        ---
        get:
          summary: Approval inbox
          responses:
            200:
              description: Cases waiting for your decision, oldest first
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      count: {type: integer}
                      result: {type: array, items: {$ref: '#/components/schemas/Case'}}
        """
        actor = current_actor()
        cases = workflow.waiting_for(actor)
        return self.response(200, count=len(cases), result=[case_json(actor, c) for c in cases])

    @expose("/<int:pk>/evidence", methods=["POST"])
    @protect()
    @safe
    @service_call
    def upload_evidence(self, pk: int):
        """Attach evidence to a case (multipart form).
        ---
        post:
          summary: Upload evidence
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          requestBody:
            required: true
            content:
              multipart/form-data:
                schema:
                  type: object
                  required: [file, kind]
                  properties:
                    file: {type: string, format: binary, description: at most KESU_MAX_UPLOAD_MB (50 MB); at most 100 files a case}
                    kind: {type: string, enum: [photo, video, document, delivery_note]}
                    source: {type: string, maxLength: 200, description: where it came from (e.g. WeChat from the dealer)}
                    received_at: {type: string, format: date-time, maxLength: 40, description: when it was received (default now)}
          responses:
            201:
              description: Stored
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      id: {type: integer}
                      result: {$ref: '#/components/schemas/Evidence'}
            400: {$ref: '#/components/responses/400'}
            404: {$ref: '#/components/responses/404'}
            409: {$ref: '#/components/responses/409'}
        """
        actor = current_actor()
        evidence = evidence_service.add_uploaded(actor, pk, request.files.get("file"), request.form)
        result = evidence_json(evidence.case, evidence)
        return self.response(201, id=evidence.id, result=result)

    @expose("/<int:pk>/evidence/<int:evidence_id>", methods=["GET"])
    @protect()
    @safe
    @service_call
    def download_evidence(self, pk: int, evidence_id: int):
        """Download an evidence file.
        ---
        get:
          summary: Download evidence
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          - {in: path, name: evidence_id, required: true, schema: {type: integer}}
          responses:
            200:
              description: >-
                The file, as an attachment, typed by its content (an allowed image, video,
                document or text/plain type, else application/octet-stream)
              content:
                "*/*":
                  schema: {type: string, format: binary}
            404: {$ref: '#/components/responses/404'}
        """
        evidence, path = evidence_service.open_evidence(current_actor(), pk, evidence_id)
        return download_response(path, evidence.filename, evidence.content_type)

    @expose("/fields", methods=["GET"])
    @protect()
    @safe
    @service_call
    def intake_fields(self):
        """The intake fields of a business line: its categories and each one's ``details`` fields.
        ---
        get:
          summary: Intake fields per category
          parameters:
          - {in: query, name: business_line, required: true, schema: {type: string, maxLength: 64}}
          responses:
            200:
              description: Enabled categories with their fields
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      business_line: {type: string}
                      categories:
                        type: array
                        items:
                          type: object
                          properties:
                            key: {type: string}
                            name: {type: string}
                            details: {type: object, description: JSON schema of details}
            400: {$ref: '#/components/responses/400'}
            403: {$ref: '#/components/responses/403'}
        """
        actor = current_actor()
        line = line_for_write(actor, request.args.get("business_line") or "")
        facts = line_facts(line)
        locale = str(get_locale())
        categories = [
            {
                "key": d.key,
                "name": d.name(locale),
                "details": fields.json_schema(case_service.plugin_field_specs(facts, d.key)),
            }
            for d in registry().categories()
            if d.key in facts.enabled_plugins
        ]
        return self.response(
            200,
            business_line=line.code,
            categories=categories,
        )
