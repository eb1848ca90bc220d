"""``/api/v1/ledger/``: the ledger (台帐) of cases, paged JSON and the Excel export."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from flask import request
from flask_appbuilder.api import expose, safe
from flask_appbuilder.security.decorators import protect

from core.api.base import KesuApi, current_actor, service_call
from core.downloads import dated_workbook
from core.roles import LEDGER
from core.services import ledger, ledger_export


class LedgerApi(KesuApi):
    resource_name = "ledger"
    class_permission_name = LEDGER
    base_permissions = [ledger.CAN_READ_LEDGER]
    method_permission_name = {"get_list": "read", "xlsx": "read"}
    openapi_spec_tag = "Ledger"

    @expose("/", methods=["GET"])
    @protect()
    @safe
    @service_call
    def get_list(self):
        """The ledger of your business lines' cases, newest received first, a page at a time.
        ---
        get:
          summary: The ledger (台帐)
          description: >-
            Every case with its key fields and outcome; archived cases included. The phone is
            masked unless your role may view contact details. A bad filter is a 400 naming it.
          parameters:
          - {in: query, name: business_line, schema: {type: string, maxLength: 64}, description: a business line code (yours)}
          - {in: query, name: from, schema: {type: string, format: date, maxLength: 10}, description: first day received (each case's line-local day)}
          - {in: query, name: to, schema: {type: string, format: date, maxLength: 10}, description: last day received (inclusive)}
          - {in: query, name: category, schema: {type: string, maxLength: 64}, description: a category key}
          - {in: query, name: status, schema: {type: string, maxLength: 64}, description: a stage key}
          - {in: query, name: product, schema: {type: string, maxLength: 64}, description: a product code}
          - {in: query, name: batch, schema: {type: string, maxLength: 64}, description: a batch number}
          - {in: query, name: customer, schema: {type: string, maxLength: 100}, description: part of the customer's name}
          - {in: query, name: department, schema: {type: string, maxLength: 64}, description: a responsible department's code}
          - {in: query, name: page, schema: {type: integer, minimum: 1, maximum: 1000000}}
          - {in: query, name: page_size, schema: {type: integer, minimum: 1, maximum: 500}}
          responses:
            200:
              description: A page of the ledger
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      count: {type: integer}
                      page: {type: integer}
                      page_size: {type: integer}
                      result:
                        type: array
                        items:
                          type: object
                          properties:
                            id: {type: integer}
                            number: {type: string}
                            received_at: {type: string, format: date-time, description: line-local}
                            business_line: {type: string}
                            business_line_name: {type: string}
                            category: {type: string}
                            category_label: {type: string}
                            channel: {type: string}
                            channel_label: {type: string}
                            customer: {type: string}
                            phone: {type: string, nullable: true}
                            product: {type: string, nullable: true}
                            batch_no: {type: string, nullable: true}
                            description: {type: string}
                            demand: {type: string, nullable: true}
                            demand_label: {type: string, nullable: true}
                            claim_amount: {type: string, nullable: true}
                            priority: {type: string}
                            priority_label: {type: string}
                            is_major: {type: boolean}
                            status: {type: string}
                            status_label: {type: string}
                            archived: {type: boolean}
                            archived_on: {type: string, format: date, nullable: true}
                            department: {type: string, nullable: true}
                            handler: {type: string, nullable: true}
                            root_cause: {type: string, nullable: true, description: the catalogue entry}
                            root_cause_text: {type: string, nullable: true}
                            outcome: {type: string, enum: [effective, not_effective, closed, rejected, open]}
                            outcome_label: {type: string}
                            compensation:
                              type: object
                              description: totals by kind, cancelled lines excluded
                              properties:
                                reship: {type: string, nullable: true, description: CNY with 2 decimals}
                                credit_note: {type: string, nullable: true, description: CNY with 2 decimals}
                                account_adjustment: {type: string, nullable: true, description: CNY with 2 decimals}
                                free_goods: {type: string, nullable: true, description: CNY with 2 decimals}
                                refund: {type: string, nullable: true, description: CNY with 2 decimals}
                                freight_to_customer: {type: string, nullable: true, description: CNY with 2 decimals}
                                charge_responsible_person: {type: string, nullable: true, description: CNY with 2 decimals}
                            approved_on: {type: string, format: date, nullable: true}
                            closed_on: {type: string, format: date, nullable: true}
                            sla:
                              type: object
                              properties:
                                registered: {type: string, nullable: true, enum: [met, missed, pending]}
                                solution: {type: string, nullable: true, enum: [met, missed, pending]}
                                compensation_done: {type: string, nullable: true, enum: [met, missed, pending]}
                                closed: {type: string, nullable: true, enum: [met, missed, pending]}
                            satisfaction: {type: integer, nullable: true, description: latest return visit}
            400: {$ref: '#/components/responses/400'}
            401: {$ref: '#/components/responses/401'}
            403: {$ref: '#/components/responses/403'}
        """
        actor = current_actor()
        filters = ledger.clean_filters(actor, request.args)
        number, size = ledger.parse_page(request.args)
        items, total = ledger.page(actor, filters, number=number, size=size)
        return self.response(
            200,
            count=total,
            page=number,
            page_size=size,
            result=[as_json(item) for item in items],
        )

    @expose("/xlsx", methods=["GET"])
    @protect()
    @safe
    @service_call
    def xlsx(self):
        """The filtered ledger as an Excel workbook (headers in your language).
        ---
        get:
          summary: Export the ledger
          parameters:
          - {in: query, name: business_line, schema: {type: string, maxLength: 64}, description: a business line code (yours)}
          - {in: query, name: from, schema: {type: string, format: date, maxLength: 10}, description: first day received (each case's line-local day)}
          - {in: query, name: to, schema: {type: string, format: date, maxLength: 10}, description: last day received (inclusive)}
          - {in: query, name: category, schema: {type: string, maxLength: 64}, description: a category key}
          - {in: query, name: status, schema: {type: string, maxLength: 64}, description: a stage key}
          - {in: query, name: product, schema: {type: string, maxLength: 64}, description: a product code}
          - {in: query, name: batch, schema: {type: string, maxLength: 64}, description: a batch number}
          - {in: query, name: customer, schema: {type: string, maxLength: 100}, description: part of the customer's name}
          - {in: query, name: department, schema: {type: string, maxLength: 64}, description: a responsible department's code}
          responses:
            200:
              description: The workbook, as an attachment
              content:
                application/vnd.openxmlformats-officedocument.spreadsheetml.sheet:
                  schema: {type: string, format: binary}
            400: {$ref: '#/components/responses/400'}
            401: {$ref: '#/components/responses/401'}
            403: {$ref: '#/components/responses/403'}
            422: {$ref: '#/components/responses/422'}
        """
        actor = current_actor()
        filters = ledger.clean_filters(actor, request.args)
        return ledger_file_response(actor, filters)


def ledger_file_response(actor, filters):
    """The workbook streamed from its temporary file, removed once sent (or dropped)."""
    return dated_workbook(
        ledger_export.export_ledger(actor, filters), ledger_export.file_title(), actor
    )


def as_json(item: Mapping[str, Any]) -> dict[str, Any]:
    """A ledger row for the API: ISO dates, amounts as strings."""

    def money(fen: int | None) -> str | None:
        return None if fen is None else f"{Decimal(fen).scaleb(-2):.2f}"

    out = dict(item)
    for key in ("received_at", "archived_on", "approved_on", "closed_on"):
        out[key] = item[key].isoformat() if item[key] is not None else None
    del out["claim_fen"], out["compensation_fen"]
    out["claim_amount"] = money(item["claim_fen"])
    out["archived"] = item["archived_on"] is not None
    out["compensation"] = {k: money(item["compensation_fen"].get(k)) for k in ledger.KINDS}
    return out
