"""All models, imported so that the metadata is complete."""

from core.models.audit import AuditChainHead, AuditEvent
from core.models.business_line import BusinessLine, Department, LinePlugin
from core.models.case import ApprovalStep, Case, CaseCounter, CompensationLine, Evidence
from core.models.customer import Customer, Product
from core.models.user import KesuUser, user_business_line

__all__ = [
    "ApprovalStep",
    "AuditChainHead",
    "AuditEvent",
    "BusinessLine",
    "Case",
    "CaseCounter",
    "CompensationLine",
    "Customer",
    "Department",
    "Evidence",
    "KesuUser",
    "LinePlugin",
    "Product",
    "user_business_line",
]
