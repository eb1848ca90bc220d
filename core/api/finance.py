"""``/api/v1/finance/``: the credit-note and reshipment export batches (Finance)."""

from __future__ import annotations

from flask import request
from flask_appbuilder.api import expose, safe
from flask_appbuilder.security.decorators import protect

from core.api.base import KesuApi, current_actor, json_body, service_call
from core.downloads import download_response
from core.fields import to_json
from core.roles import FINANCE_EXPORT
from core.services import finance

BATCH_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "number": {"type": "string", "description": "FX-YYYYMM-NNNN"},
        "kind": {"type": "string", "enum": list(finance.LISTS)},
        "business_line": {"type": "string"},
        "approved_from": {"type": "string", "format": "date", "nullable": True},
        "approved_to": {"type": "string", "format": "date", "nullable": True},
        "line_count": {"type": "integer"},
        "total": {"type": "string", "description": "CNY, charges to the customer negative"},
        "locale": {"type": "string", "description": "the language the files are written in"},
        "created_by": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"},
        "xlsx_sha256": {"type": "string"},
        "csv_sha256": {"type": "string"},
        "voided_at": {"type": "string", "format": "date-time", "nullable": True},
        "voided_by": {"type": "string", "nullable": True},
        "void_reason": {"type": "string", "nullable": True},
        "urls": {
            "type": "object",
            "properties": {"xlsx": {"type": "string"}, "csv": {"type": "string"}},
        },
    },
}
PENDING_LINE_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "case_id": {"type": "integer"},
        "case_number": {"type": "string"},
        "customer": {"type": "string"},
        "kind": {"type": "string"},
        "quantity": {"type": "integer", "nullable": True},
        "unit_price": {"type": "string", "nullable": True},
        "amount": {"type": "string"},
        "sku": {"type": "string", "nullable": True},
        "batch_no": {"type": "string", "nullable": True},
        "note": {"type": "string", "nullable": True},
        "approved_at": {"type": "string", "format": "date-time"},
    },
}


class FinanceApi(KesuApi):
    resource_name = "finance"
    class_permission_name = FINANCE_EXPORT
    base_permissions = ["can_read", "can_export", "can_void"]
    method_permission_name = {
        "pending": "read",
        "export": "export",
        "batch_list": "read",
        "batch": "read",
        "xlsx": "read",
        "csv": "read",
        "void": "void",
    }
    openapi_spec_tag = "Finance"

    def add_apispec_components(self, api_spec) -> None:
        super().add_apispec_components(api_spec)
        for name, schema in (("ExportBatch", BATCH_SCHEMA), ("ExportLine", PENDING_LINE_SCHEMA)):
            if name not in api_spec.components.schemas:
                api_spec.components.schema(name, schema)

    @expose("/pending", methods=["GET"])
    @protect()
    @safe
    @service_call
    def pending(self):
        """The lines an export of a list would take now, with their total.
        ---
        get:
          summary: Lines waiting for export
          description: >-
            Approved lines still pending and in no batch. The credit-note list takes credit
            notes, account adjustments and refunds, and charges to the customer as negative
            amounts; the reshipment list takes reshipments and zero-price free-goods orders.
          parameters:
          - {in: query, name: kind, required: true, schema: {type: string, enum: [credit_notes, reshipments]}}
          - {in: query, name: business_line, required: true, schema: {type: string, maxLength: 64}}
          - {in: query, name: approved_from, schema: {type: string, format: date, maxLength: 10}, description: first day approved (line's time zone)}
          - {in: query, name: approved_to, schema: {type: string, format: date, maxLength: 10}, description: last day approved (inclusive)}
          responses:
            200:
              description: The eligible lines
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      kind: {type: string}
                      business_line: {type: string}
                      count: {type: integer}
                      total: {type: string}
                      result: {type: array, items: {$ref: '#/components/schemas/ExportLine'}}
        """
        args = request.args
        found = finance.pending(
            current_actor(),
            args.get("kind"),
            args.get("business_line"),
            args.get("approved_from"),
            args.get("approved_to"),
        )
        return self.response(
            200,
            kind=args.get("kind"),
            business_line=args.get("business_line"),
            count=found.count,
            total=to_json(found.total),
            result=[finance.pending_line_json(line) for line in found.lines],
        )

    @expose("/export", methods=["POST"])
    @protect()
    @safe
    @service_call
    def export(self):
        """Export every eligible line of a list and business line into a new batch.
        ---
        post:
          summary: Create an export batch
          description: >-
            Writes the workbook and CSV in your language and marks every line with the batch,
            in one transaction; two exports never share a line. Nothing eligible is a 422
            with problems[0].code nothing_to_export.
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  properties:
                    kind: {type: string, enum: [credit_notes, reshipments]}
                    business_line: {type: string, maxLength: 64}
                    approved_from: {type: string, format: date, maxLength: 10}
                    approved_to: {type: string, format: date, maxLength: 10}
                  required: [kind, business_line]
                  additionalProperties: false
          responses:
            201:
              description: The new batch
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      id: {type: integer}
                      result: {$ref: '#/components/schemas/ExportBatch'}
        """
        batch = finance.export(current_actor(), json_body())
        return self.response(201, id=batch.id, result=finance.batch_json(batch))

    @expose("/export/", methods=["GET"])
    @protect()
    @safe
    @service_call
    def batch_list(self):
        """The export batches of your business lines, newest first.
        ---
        get:
          summary: List export batches
          parameters:
          - {in: query, name: business_line, schema: {type: string, maxLength: 64}}
          responses:
            200:
              description: The batches
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      count: {type: integer}
                      result: {type: array, items: {$ref: '#/components/schemas/ExportBatch'}}
        """
        found = finance.batches(current_actor(), request.args.get("business_line"))
        return self.response(200, count=len(found), result=[finance.batch_json(b) for b in found])

    @expose("/export/<int:pk>", methods=["GET"])
    @protect()
    @safe
    @service_call
    def batch(self, pk: int):
        """One export batch.
        ---
        get:
          summary: Read an export batch
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          responses:
            200:
              description: The batch
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      id: {type: integer}
                      result: {$ref: '#/components/schemas/ExportBatch'}
        """
        batch = finance.get_batch(current_actor(), pk)
        return self.response(200, id=batch.id, result=finance.batch_json(batch))

    def _file(self, pk: int, fmt: str):
        content, filename, mimetype = finance.batch_file(current_actor(), pk, fmt)
        return download_response(content, filename, mimetype)

    @expose("/export/<int:pk>/xlsx", methods=["GET"])
    @protect()
    @safe
    @service_call
    def xlsx(self, pk: int):
        """Download a batch's workbook, the bytes stored when it was made.
        ---
        get:
          summary: Download an export workbook
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          responses:
            200:
              description: The workbook, as an attachment
              content:
                application/vnd.openxmlformats-officedocument.spreadsheetml.sheet:
                  schema: {type: string, format: binary}
        """
        return self._file(pk, "xlsx")

    @expose("/export/<int:pk>/csv", methods=["GET"])
    @protect()
    @safe
    @service_call
    def csv(self, pk: int):
        """Download a batch's CSV (UTF-8 with BOM), the bytes stored when it was made.
        ---
        get:
          summary: Download an export CSV
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          responses:
            200:
              description: The CSV, as an attachment
              content:
                text/csv:
                  schema: {type: string, format: binary}
        """
        return self._file(pk, "csv")

    @expose("/export/<int:pk>/void", methods=["POST"])
    @protect()
    @safe
    @service_call
    def void(self, pk: int):
        """Void a batch: its lines become eligible again.
        ---
        post:
          summary: Void an export batch
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          requestBody:
            required: true
            content:
              application/json:
                schema: {$ref: '#/components/schemas/Reason'}
          responses:
            200:
              description: The voided batch
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      id: {type: integer}
                      result: {$ref: '#/components/schemas/ExportBatch'}
        """
        batch = finance.void(current_actor(), pk, json_body())
        return self.response(200, id=batch.id, result=finance.batch_json(batch))
