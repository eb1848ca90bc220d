"""Every size limit of Kesu's input, in one place (documented in docs/api.md, "Limits").

The field specs (core/fields.py), the screens' forms, the admin screens, the API schemas and
the OpenAPI document all read their maxima from here. A value over its maximum is refused
with a 4xx that names the field, before anything is written. This module imports nothing
from Kesu, so the contracts plugins use may check their declarations against it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

# -- text (characters, after trimming) ----------------------------------------------------------
TEXT_SHORT = 200  # a name, unit, carrier, ...: the default of a "string" field
TEXT_LONG = 5000  # a description, comment, reason, root cause: the default of a "text" field
CODE = 64  # a batch number or SKU
NOTE = 1000  # a compensation line's note
SEARCH = 200  # the search text of a case list (and the audit trail's filters)
CALENDAR_TEXT = 20_000  # a pasted list of calendar days
PERSON_NAME = 64  # a staff member's whole name (the column holds 64)
USERNAME = 128  # a user name (signing in; the column holds 128)
PASSWORD = 256  # a password (signing in)
CONTACT = 100  # a customer's contact person
PHONE = 40  # a phone number
ADDRESS = 400  # a postal address

# -- numbers -------------------------------------------------------------------------------------
ID = 2**31 - 1  # an id, page or version number
QUANTITY = 1_000_000  # any quantity or count: the default maximum of an "integer" field
DAYS = 365  # a number of days (e.g. transit days)
UNIT_PRICE = Decimal("1000000.00")  # a unit price (CNY)
AMOUNT = Decimal("99999999.99")  # any amount (CNY): the default maximum of a "decimal" field
CASE_TOTAL = AMOUNT  # the sum of a case's compensation lines (CNY)

# -- lists ---------------------------------------------------------------------------------------
COMPENSATION_LINES = 200  # compensation lines of one case
EVIDENCE_FILES = 100  # evidence files of one case
PAGE_SIZE = 100  # items of one page of a list
PAGE = 1_000_000  # the page number of a list
SETTING_ITEMS = 100  # entries of a list setting (each a short text)
SAVED_FILTERS = 50  # saved case-list filters of one user
SAVED_FILTER_NAME = 100  # the name of a saved filter
SAVED_FILTER_QUERY = 2000  # the query string a saved filter keeps
BULK_ASSIGN = 200  # cases assigned in one bulk assignment

# -- dates ---------------------------------------------------------------------------------------
DATE_MIN = dt.date(2000, 1, 1)  # the earliest date or date-time (purchase, receipt, ...)
FUTURE_DAYS = 1  # a date may be at most this many days after today (UTC; covers every zone)
DUE_DAYS = 1830  # a due date (e.g. of a corrective action): at most about five years ahead
MAX_DAYS_AHEAD = 3660  # the most days ahead a date field may declare

# The largest value a field type takes when its spec names no maximum, and the most a spec
# may declare: the core stores text and money in columns sized for these.
DEFAULT_MAX_LENGTH = {"string": TEXT_SHORT, "text": TEXT_LONG}
CEILING_LENGTH = {"string": TEXT_LONG, "text": TEXT_LONG}
DEFAULT_MAX_VALUE = {"integer": QUANTITY, "decimal": AMOUNT}
CEILING_VALUE = {"integer": ID, "decimal": AMOUNT}


def date_max(days_ahead: int | None = None, today: dt.date | None = None) -> dt.date:
    """The latest date accepted today (``days_ahead`` defaults to ``FUTURE_DAYS``)."""
    today = today or dt.datetime.now(dt.UTC).date()
    return today + dt.timedelta(days=FUTURE_DAYS if days_ahead is None else days_ahead)


# Columns that user input reaches and that carry no length of their own (a String(n) column
# carries its n), with the limit above that guards them; and the columns only Kesu writes.
# tests/test_limits.py fails for a column (core or plugin) in neither: classify a new one here.
USER_COLUMNS: dict[str, object] = {
    "approval_step.comment": TEXT_LONG,
    "business_line.settings": SETTING_ITEMS,
    "line_plugin.settings": SETTING_ITEMS,
    "compensation_line.quantity": QUANTITY,
    "compensation_line.unit_price": UNIT_PRICE,
    "compensation_line.amount": AMOUNT,
    "compensation_line.note": NOTE,
    "compensation_line.exec_reason": TEXT_LONG,
    "case_visit.comment": TEXT_LONG,
    "case_visit.followup_reason": TEXT_LONG,
    "case_visit.satisfaction": "1-5 (core.services.visits)",
    "export_batch.void_reason": TEXT_LONG,
    "evidence.size": "KESU_MAX_UPLOAD_MB",
    "kesu_case.acceptance_override": TEXT_LONG,
    "kesu_case.claim_amount": AMOUNT,
    "kesu_case.description": TEXT_LONG,
    "kesu_case.details": "the plugins' field specs",
    "kesu_case.priority_override_reason": TEXT_LONG,
    "kesu_case.quantity_purchased": QUANTITY,
    "kesu_case.root_cause": TEXT_LONG,
    "kesu_case.version": ID,
    "product.unit_price": UNIT_PRICE,
    "quality_capa_action.description": TEXT_LONG,
    "quality_capa_action.done_note": TEXT_LONG,
    "return_receipt.comment": TEXT_LONG,
    "return_receipt.quantity": QUANTITY,
    "saved_filter.query": SAVED_FILTER_QUERY,
}
SYSTEM_COLUMNS = frozenset(
    {
        "ab_api_key.scopes",
        "ab_user.auth_epoch",
        "ab_user.fail_login_count",
        "ab_user.login_count",
        "approval_step.round",
        "approval_step.seq",
        "audit_chain_head.last_event_id",
        "audit_event.actor_id",
        "audit_event.case_id",
        "audit_event.changes",
        "audit_event.entity_id",
        "business_line.calendar_revision",
        "case_counter.last",
        "case_deadline.hold_clock_seconds",
        "case_deadline.hold_seconds",
        "idempotency_key.body",  # Kesu's own first answer, replayed (core.api.idempotency)
        "idempotency_key.status_code",
        "compensation_line.position",
        "root_cause.position",
        "compensation_line.approved_round",
        "export_batch.line_count",
        "export_batch.total",
        "export_batch.xlsx",  # the file Kesu wrote (core.services.finance)
        "export_batch.csv",
        "kesu_case.acceptance_issues",
        "kesu_case.deadlines",
        "kesu_case.major_reasons",
        "kesu_case.priority_reasons",
        "kesu_case.proposal_note",
        "kesu_case.stage_times",
        "notification.message",
        "notification.params",
        "return_receipt.reasons",
    }
)
