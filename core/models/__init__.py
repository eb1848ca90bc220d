"""All models, imported so that the metadata is complete."""

from core.models.audit import AuditChainHead, AuditEvent
from core.models.business_line import BusinessLine, Department, LinePlugin
from core.models.case import (
    ApprovalStep,
    Case,
    CaseCounter,
    CaseVisit,
    CompensationLine,
    Evidence,
    ExportBatch,
    ExportBatchLine,
)
from core.models.customer import Customer, Product
from core.models.idempotency import IdempotencyKey
from core.models.kept import KEPT_TABLES
from core.models.login_attempt import LoginAttempt
from core.models.notification import Notification
from core.models.position import LinePosition
from core.models.root_cause import RootCause
from core.models.saved_filter import SavedFilter
from core.models.sla import CalendarDay, CaseDeadline
from core.models.user import KesuUser, user_business_line

__all__ = [
    "ApprovalStep",
    "AuditChainHead",
    "AuditEvent",
    "BusinessLine",
    "CalendarDay",
    "Case",
    "CaseCounter",
    "CaseDeadline",
    "CaseVisit",
    "CompensationLine",
    "Customer",
    "Department",
    "Evidence",
    "ExportBatch",
    "ExportBatchLine",
    "IdempotencyKey",
    "KEPT_TABLES",
    "KesuUser",
    "LinePlugin",
    "LinePosition",
    "LoginAttempt",
    "Notification",
    "Product",
    "RootCause",
    "SavedFilter",
    "user_business_line",
]
