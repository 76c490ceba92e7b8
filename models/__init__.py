"""SQLAlchemy 2 typed tables. Imports nothing of ours but this package."""

from models.access_log import AccessLog
from models.assessment import Assessment, Need
from models.audit import AuditDetail, AuditEvent
from models.base import Base
from models.care import CampAttendance, CampSession, CareContact, CareMiss, CarePlan, CarePlanCarer, Carer
from models.concerns import Concern
from models.consent import Consent
from models.followups import FollowUp
from models.fund_restriction import FundRestriction
from models.jobs import (
    Course,
    CourseAttendance,
    Enrolment,
    HomeDelivery,
    HomeOrder,
    Opening,
    Placement,
    PlacementFollowUp,
)
from models.leads import Lead, Reporter
from models.ledger import Account, Disbursement, Entry, LedgerTransaction
from models.notices import Notice, NoticeEntry
from models.notifications import NotificationChannel, NotificationDelivery
from models.outbox import IdempotencyKey, OutboxMessage
from models.partners import Partner
from models.points import PointsEarning, PointsRule, Redemption, ShopItem
from models.policy import Application, ApplicationFile, ApplicationStep, PolicyHold
from models.privacy import Erasure
from models.receipts import FamilyMessage, Receipt, ReceiptCode
from models.regions import Region
from models.registry import Grid, Household, HouseholdBenefit, Member, Visit
from models.requests import AidRequest, Offer
from models.reversal import Reversal
from models.special_groups import SpecialGroupMember
from models.users import ApiToken, Notification, User, UserGrid
from models.volunteers import ServiceRecord, TaskClaim, Volunteer, VolunteerTask

__all__ = [
    "AccessLog",
    "Account",
    "AidRequest",
    "ApiToken",
    "Application",
    "ApplicationFile",
    "ApplicationStep",
    "Assessment",
    "AuditDetail",
    "AuditEvent",
    "Base",
    "CampAttendance",
    "CampSession",
    "CareContact",
    "CareMiss",
    "CarePlan",
    "CarePlanCarer",
    "Carer",
    "Concern",
    "Consent",
    "Course",
    "CourseAttendance",
    "Disbursement",
    "Enrolment",
    "Entry",
    "Erasure",
    "FamilyMessage",
    "FollowUp",
    "FundRestriction",
    "Grid",
    "HomeDelivery",
    "HomeOrder",
    "Household",
    "HouseholdBenefit",
    "IdempotencyKey",
    "Lead",
    "LedgerTransaction",
    "Member",
    "Need",
    "Notice",
    "NoticeEntry",
    "Notification",
    "NotificationChannel",
    "NotificationDelivery",
    "Offer",
    "Opening",
    "OutboxMessage",
    "Partner",
    "Placement",
    "PlacementFollowUp",
    "PointsEarning",
    "PointsRule",
    "PolicyHold",
    "Receipt",
    "ReceiptCode",
    "Redemption",
    "Region",
    "Reporter",
    "Reversal",
    "ServiceRecord",
    "ShopItem",
    "SpecialGroupMember",
    "TaskClaim",
    "User",
    "UserGrid",
    "Visit",
    "Volunteer",
    "VolunteerTask",
]
