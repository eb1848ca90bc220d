"""OpenAPI component schemas of the case API, built from the same field specs the service uses."""

from __future__ import annotations

from typing import Any

from core import fields, limits
from core.contracts import LineFacts
from core.services.cases import CORE_FIELDS, CUSTOMER_FIELDS
from core.services.compensation import LINE_FIELDS
from core.services.lines import registry
from core.vocab import COMPENSATION_KINDS, EVIDENCE_KINDS, VISIT_CHANNELS, VISIT_FOLLOWUPS
from core.workflow import ACTIONS, STAGES

_S = {"type": "string"}
_NS = {"type": "string", "nullable": True}
_NI = {"type": "integer", "nullable": True}
_MONEY = {
    "type": "string",
    "format": "decimal",
    "nullable": True,
    "description": "CNY, two decimals",
}
# Request fields' limits (core/limits.py); response schemas need none.
_CODE = {"type": "string", "maxLength": limits.CODE}
_SHORT = {"type": "string", "maxLength": limits.TEXT_SHORT}
_LONG = {"type": "string", "maxLength": limits.TEXT_LONG}
_ID = {"type": "integer", "minimum": 1, "maximum": limits.ID}
_VERSION = {**_ID, "description": "optional: refuse with 409 if stale"}
_TIME = {
    "type": "string",
    "format": "date-time",
    "nullable": True,
    "description": "ISO 8601 in the business line's timezone",
}


VISIT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "visited_at": _TIME,
        "channel": {"type": "string", "enum": list(VISIT_CHANNELS)},
        "satisfaction": {"type": "integer", "minimum": 1, "maximum": 5},
        "comment": _NS,
        "by": _NS,
        "followup": {
            "type": "string",
            "nullable": True,
            "enum": [*VISIT_FOLLOWUPS, None],
            "description": "a score of 2 or lower: pending until reopened or dismissed",
        },
        "followup_reason": _NS,
        "followup_by": _NS,
        "followup_at": _TIME,
    },
}


def details_schemas() -> dict[str, dict[str, Any]]:
    """One ``details`` schema per installed category (with every plugin's fields)."""
    reg = registry()
    line = LineFacts(
        id=0,
        code="*",
        name="*",
        timezone="UTC",
        enabled_plugins=frozenset(reg.keys),
        plugin_settings=dict(reg.settings_defaults),
    )
    out = {}
    for descriptor in reg.categories():
        caller = reg.caller("kesu_case_fields", reg.case_plugin_keys(descriptor.key, reg.keys))
        specs = [
            s for result in caller(line=line, category=descriptor.key) if result for s in result
        ]
        schema = fields.json_schema(specs)
        schema["description"] = f"details of category {descriptor.key} ({descriptor.name_en})"
        out[f"Details_{descriptor.key}"] = schema
    return out


def case_create_schema(details_names: list[str]) -> dict[str, Any]:
    schema = fields.json_schema(CORE_FIELDS)
    props = schema["properties"]
    props["business_line"] = {**_CODE, "description": "business line code"}
    props["category"] = {**_CODE, "description": "category plugin key, enabled on the line"}
    props["customer"] = fields.json_schema(CUSTOMER_FIELDS)
    props["customer"]["description"] = "found by name in the line, or created"
    props["customer_id"] = {**_ID, "description": "instead of customer"}
    props["details"] = {
        "description": "the category plugins' fields (see Details_<category>)",
        "anyOf": [{"$ref": f"#/components/schemas/{n}"} for n in details_names]
        or [{"type": "object"}],
    }
    schema["required"] = ["business_line", "category", *schema.get("required", [])]
    return schema


def case_update_schema(details_names: list[str]) -> dict[str, Any]:
    schema = case_create_schema(details_names)
    schema["properties"]["version"] = {**_ID, "description": "the version last seen"}
    schema["required"] = ["version"]
    schema["description"] = "only the fields given change"
    return schema


CASE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "number": {"type": "string", "example": "KS-202611-00042"},
        "business_line": _S,
        "category": _S,
        "channel": _S,
        "status": {"type": "string", "enum": list(STAGES)},
        "held_from": _NS,
        "priority": {"type": "string", "enum": ["P1", "P2", "P3"]},
        "priority_reasons": {
            "type": "array",
            "items": _S,
            "description": "claim_amount, key_account, repeat_complaint, major; manual first "
            "when set by hand",
        },
        "priority_override_reason": {**_NS, "description": "why the priority was set by hand"},
        "is_major": {"type": "boolean"},
        "major_reasons": {"type": "array", "items": _S},
        "acceptance_issues": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"code": _S, "field": _S, "message": _S},
                "required": ["code", "message"],
            },
        },
        "acceptance_override": _NS,
        "customer": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "name": _S,
                "kind": _S,
                "contact": _NS,
                "phone": {**_NS, "description": "masked (138****5678) without view-contact"},
                "email": {**_NS, "description": "masked without view-contact"},
                "address": _NS,
            },
        },
        "product": {
            "type": "object",
            "nullable": True,
            "properties": {"id": {"type": "integer"}, "code": _S, "name": _S},
        },
        "batch_no": _NS,
        "quantity_purchased": _NI,
        "purchase_date": {"type": "string", "format": "date", "nullable": True},
        "goods_received_at": _TIME,
        "received_at": _TIME,
        "problem_stage": _NS,
        "purchasing_unit": _NS,
        "description": _S,
        "demand": _NS,
        "claim_amount": _MONEY,
        "details": {"type": "object"},
        "deadlines": {
            "type": "object",
            "additionalProperties": {"type": "string", "format": "date-time"},
        },
        "department": _NS,
        "handler": _NS,
        "root_cause": _NS,
        "root_cause_category": {"type": "string", "nullable": True},
        "verified_effective": {"type": "boolean", "nullable": True},
        "version": {"type": "integer"},
        "created_at": _TIME,
        "updated_at": _TIME,
        "evidence": {"type": "array", "items": {"$ref": "#/components/schemas/Evidence"}},
        "root_cause_choices": {
            "type": "array",
            "description": "the line's root-cause catalogue entries a proposal may name",
            "items": {
                "type": "object",
                "properties": {"id": {"type": "integer"}, "label": {"type": "string"}},
            },
        },
        "compensation": {
            "type": "array",
            "items": {"$ref": "#/components/schemas/CompensationLineOut"},
        },
        "compensation_total": _MONEY,
        "proposal_note": {**_NS, "description": "the proposal's remark, e.g. who else pays"},
        "approvals": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "round": {"type": "integer"},
                    "step": _S,
                    "role": _S,
                    "decision": {
                        "type": "string",
                        "enum": ["pending", "approved", "refused", "cancelled"],
                    },
                    "by": _NS,
                    "at": _TIME,
                    "comment": _NS,
                },
            },
        },
        "visits": {
            "type": "array",
            "description": "return visits after closing, oldest first",
            "items": VISIT_SCHEMA,
        },
        "satisfaction": {
            "type": "integer",
            "nullable": True,
            "minimum": 1,
            "maximum": 5,
            "description": "the latest return visit's score",
        },
        "sla": {
            "type": "object",
            "description": "each deadline: its state and whether (and by how much) it was missed",
            "additionalProperties": {"$ref": "#/components/schemas/Deadline"},
        },
        "customer_at_risk": {
            "type": "boolean",
            "description": "the customer has the line's at-risk number of cases in its window",
        },
        "customer_recent_cases": {"type": "integer"},
        "allowed_actions": {"type": "array", "items": {"type": "string", "enum": list(ACTIONS)}},
    },
}

_NMIN = {"type": "integer", "nullable": True}
DEADLINE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "due_at": {"type": "string", "format": "date-time"},
        "state": {"type": "string", "enum": ["running", "paused", "met", "void"]},
        "met_at": _TIME,
        "missed": {"type": "boolean"},
        "late_minutes": {**_NMIN, "description": "met: minutes after the deadline (0 on time)"},
        "overdue_minutes": {**_NMIN, "description": "open and past due: minutes since"},
        "left_minutes": {**_NMIN, "description": "open: minutes left"},
        "hold_minutes": {"type": "integer", "description": "working minutes added by holds"},
    },
}

PRIORITY_CHANGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["priority", "reason"],
    "properties": {
        "priority": {
            "type": "string",
            "enum": ["P1", "P2", "P3"],
            "nullable": True,
            "description": "null hands the priority back to the rules",
        },
        "reason": {**_LONG, "description": "why (required, audited)"},
        "version": _VERSION,
    },
}

EVIDENCE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "kind": {"type": "string", "enum": list(EVIDENCE_KINDS)},
        "source": _NS,
        "received_at": _TIME,
        "filename": _S,
        "content_type": _S,
        "size": {"type": "integer"},
        "sha256": _S,
        "url": {"type": "string", "description": "download address (same access rule as the case)"},
    },
}


def compensation_edit_schema() -> dict[str, Any]:
    line = fields.json_schema(LINE_FIELDS)
    line["description"] = (
        "reship and free_goods: quantity and unit_price; amount = quantity × unit_price"
    )
    return {
        "type": "object",
        "required": ["lines", "reason"],
        "properties": {
            "lines": {
                "type": "array",
                "items": line,
                "maxItems": limits.COMPENSATION_LINES,
                "description": f"their total at most {limits.CASE_TOTAL} CNY",
            },
            "reason": {**_LONG, "description": "why the proposal is changed (audited)"},
            "version": _VERSION,
        },
    }


ACTION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "comment": {**_LONG, "description": "required by reject, refuse, reopen, hold"},
        "version": _VERSION,
        "override": {
            "type": "boolean",
            "description": "accept: supervisor override of acceptance issues",
        },
        "department": {**_SHORT, "description": "assign: responsible department code"},
        "handler": {**_SHORT, "description": "assign: handler's user name"},
        "root_cause": {**_LONG, "description": "propose: the root cause found"},
        "root_cause_category": {
            "type": "integer",
            "minimum": 1,
            "maximum": limits.ID,
            "description": "propose: the root-cause catalogue entry (an active entry of the "
            "case's business line: the case's root_cause_choices)",
        },
        "confirm_empty": {
            "type": "boolean",
            "description": "submit: confirm a proposal without compensation although the "
            "customer asked for it (the comment gives the reason)",
        },
        "effective": {
            "type": "boolean",
            "description": "verify: is the corrective action effective",
        },
    },
}


# One compensation line of the CASE object (core.services.execution.line_json).
COMPENSATION_LINE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "kind": {"type": "string", "enum": list(COMPENSATION_KINDS)},
        "quantity": _NI,
        "unit_price": _MONEY,
        "amount": _MONEY,
        "sku": _NS,
        "batch_no": _NS,
        "note": _NS,
        "approved_at": {**_TIME, "description": "when its case passed approval"},
        "execution": {
            "type": "object",
            "properties": {
                "status": {"type": "string", "enum": ["pending", "done", "cancelled"]},
                "reference": {**_NS, "description": "ERP credit-note/order/payment"},
                "reason": {**_NS, "description": "why it was cancelled"},
                "by": _NS,
                "at": _TIME,
            },
        },
        "export": {
            "type": "object",
            "nullable": True,
            "description": "the finance export batch that holds it",
            "properties": {"batch": _S, "at": _TIME},
        },
        "credit_due_on": {
            "type": "string",
            "format": "date",
            "nullable": True,
            "description": "reshipped before the recall: credit due by month end",
        },
        "credit_overdue": {"type": "boolean"},
    },
}
