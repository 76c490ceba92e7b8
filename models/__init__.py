"""SQLAlchemy 2 typed tables. Imports nothing of ours but this package."""

from models.assessment import Assessment, Need
from models.audit import AuditEvent
from models.base import Base
from models.ledger import Account, Disbursement, Entry, LedgerTransaction
from models.notifications import NotificationChannel, NotificationDelivery
from models.outbox import IdempotencyKey, OutboxMessage
from models.partners import Partner
from models.policy import Application, ApplicationFile, ApplicationStep
from models.receipts import FamilyMessage, Receipt, ReceiptCode
from models.registry import Grid, Household, HouseholdBenefit, Member, Visit
from models.requests import AidRequest, Offer
from models.users import ApiToken, Notification, User, UserGrid

__all__ = [
    "Account",
    "AidRequest",
    "ApiToken",
    "Application",
    "ApplicationFile",
    "ApplicationStep",
    "Assessment",
    "AuditEvent",
    "Base",
    "Disbursement",
    "Entry",
    "FamilyMessage",
    "Grid",
    "Household",
    "HouseholdBenefit",
    "IdempotencyKey",
    "LedgerTransaction",
    "Member",
    "Need",
    "Notification",
    "NotificationChannel",
    "NotificationDelivery",
    "Offer",
    "OutboxMessage",
    "Partner",
    "Receipt",
    "ReceiptCode",
    "User",
    "UserGrid",
    "Visit",
]
