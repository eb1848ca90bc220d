"""The core's fixed vocabularies, each value with its label (zh_CN via Babel)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

CHANNELS = {
    "phone": _l("Phone"),
    "fax": _l("Fax"),
    "email": _l("E-mail"),
    "online": _l("Online form / chat"),
    "social_media": _l("Social media"),
    "store": _l("Store / counter"),
    "sales_rep": _l("Sales representative"),
    "regulator": _l("Regulator referral"),
    "media": _l("Media"),
}
DEMANDS = {
    "refund": _l("Refund"),
    "exchange": _l("Exchange"),
    "compensation": _l("Compensation"),
    "improvement": _l("Improvement"),
    "apology": _l("Apology"),
}
PROBLEM_STAGES = {
    "receipt": _l("At receipt"),
    "storage": _l("In storage"),
    "sale": _l("At sale"),
    "use": _l("In use"),
}
CUSTOMER_LABELS = {
    "name": _l("Name"),
    "kind": _l("Customer kind"),
    "contact": _l("Contact person"),
    "phone": _l("Phone"),
    "email": _l("E-mail"),
    "address": _l("Address"),
    "business_line": _l("Business line"),
}
CUSTOMER_KINDS = {
    "dealer": _l("Dealer"),
    "key_account": _l("Key account"),
    "consumer": _l("End consumer"),
}
EVIDENCE_KINDS = {
    "photo": _l("Photo"),
    "video": _l("Video"),
    "document": _l("Document"),
    "delivery_note": _l("Signed delivery note"),
}
COMPENSATION_KINDS = {
    "reship": _l("Reshipment"),
    "credit_note": _l("Credit note"),
    "account_adjustment": _l("Account adjustment"),
    "free_goods": _l("Zero-price free-goods order"),
    "refund": _l("Refund"),
    "freight_to_customer": _l("Freight charged to the customer"),
    "charge_responsible_person": _l("Cost charged to the responsible person"),
}
PRIORITIES = {
    "P1": _l("P1 urgent"),
    "P2": _l("P2 important"),
    "P3": _l("P3 routine"),
}
# How a return visit (回访) reached the customer.
VISIT_CHANNELS = {
    "phone": _l("Phone"),
    "on_site": _l("On-site visit"),
    "wechat": _l("WeChat"),
    "email": _l("E-mail"),
    "sms": _l("SMS"),
    "other": _l("Other"),
}
# What became of a poor score's follow-up (core.services.visits).
VISIT_FOLLOWUPS = {
    "pending": _l("Waiting for the supervisor"),
    "reopened": _l("Case reopened"),
    "dismissed": _l("Dismissed"),
}
APPROVAL_DECISIONS = {
    "pending": _l("Pending"),
    "approved": _l("Approved"),
    "refused": _l("Refused"),
    "cancelled": _l("Cancelled"),
}


def choices(vocab: dict) -> tuple[tuple[str, object], ...]:
    """``(value, label)`` pairs for a field spec or a select box."""
    return tuple(vocab.items())


# Approval positions (DOMAIN.md section 7); a step names one of them.
POSITIONS = {
    "cs_supervisor": _l("Customer-service supervisor"),
    "regional_sales_manager": _l("Regional sales manager"),
    "sales_gm": _l("Sales general manager"),
    "marketing_director": _l("Marketing director"),
    "general_manager": _l("General manager"),
    "leadership": _l("Leadership"),
}


def position_label(positions: str) -> str:
    """``marketing_director|general_manager`` as its readers see it: 营销总监 / 总经理."""
    return " / ".join(str(POSITIONS.get(p, p)) for p in positions.split("|"))


PRIORITY_REASONS = {
    "major": _l("Major incident"),
    "claim_amount": _l("Claim amount at or above the P2 threshold"),
    "key_account": _l("Key account"),
    "repeat_complaint": _l("Repeat complaint of the same customer"),
    "manual": _l("Set by hand"),
}
DEADLINES = {
    "registered": _l("Registered (1 working day)"),
    "first_response": _l("First response"),
    "classified": _l("Classified"),
    "assigned": _l("Assigned to a department"),
    "start_handling": _l("Handling started"),
    "investigation": _l("Investigation done"),
    "reply": _l("Reply to the customer"),
    "reply_max": _l("Reply to the customer at the latest"),
    "solution": _l("Investigation and proposal (5 working days)"),
    "proposal": _l("Proposal after the investigation"),
    "compensation_done": _l("Feedback and compensation done"),
    "closed": _l("Case closed"),
}
DEADLINE_STATES = {
    "running": _l("Running"),
    "paused": _l("Paused (on hold)"),
    "met": _l("Met"),
    "void": _l("Void (rejected)"),
}
# The holiday names China's calendar (the chinese-calendar package) gives its dates.
HOLIDAY_NAMES = {
    "New Year's Day": _l("New Year's Day"),
    "Spring Festival": _l("Spring Festival"),
    "Tomb-sweeping Day": _l("Tomb-sweeping Day"),
    "Labour Day": _l("Labour Day"),
    "Dragon Boat Festival": _l("Dragon Boat Festival"),
    "National Day": _l("National Day"),
    "Mid-autumn Festival": _l("Mid-autumn Festival"),
    "Anti-Fascist 70th Day": _l("Anti-Fascist 70th Day"),
}
