"""A partner's own offers as a spreadsheet (CSV or XLSX) for its records: each line is
what :func:`broker.registry.disclosure.disclose` lets out to a partner's export — the
household as the family agreed to be named, the community, and the description with the
family's names, address and every phone, ID and card number removed."""

from __future__ import annotations

from sqlalchemy.orm import Session

from broker.money import exports, report_basis, report_files
from broker.money.exports import Column
from broker.platform import texts
from broker.platform.scope import Principal
from broker.platform.texts import N_, define
from broker.referral import inbox
from broker.registry import disclosure, privacy

define(
    {
        "export.offers": N_("Offers"),
        "export.household": N_("Household"),
        "export.community": N_("Community"),
        "export.status": N_("Status"),
        "export.urgency": N_("Urgency"),
        "export.description": N_("Description"),
        "export.respond_by": N_("Answer by"),
        "export.accepted_yuan": N_("Accepted (yuan)"),
        "export.disbursed_yuan": N_("Disbursed (yuan)"),
        "export.offer_status.requested": N_("Requested"),
        "export.offer_status.received": N_("Received"),
        "export.offer_status.accepted": N_("Accepted"),
        "export.offer_status.rejected": N_("Declined"),
        "export.offer_status.in-progress": N_("In progress"),
        "export.offer_status.completed": N_("Completed"),
        "export.offer_status.cancelled": N_("Withdrawn"),
        "export.offer_status.failed": N_("Could not be delivered"),
    }
)
COLUMNS = [
    Column("id", "export.offer_no", "int", 10),
    Column("created_at", "export.time", "datetime", 20),
    Column("category", "export.category", "text", 12),
    Column("status", "export.status", "text", 12),
    Column("urgency", "export.urgency", "text", 10),
    Column("community", "export.community", "text", 16),
    Column("household", "export.household", "text", 16),
    Column("description", "export.description", "text", 48),
    Column("amount_fen", "export.amount_yuan", "yuan", 14),
    Column("accepted_fen", "export.accepted_yuan", "yuan", 14),
    Column("disbursed_fen", "export.disbursed_yuan", "yuan", 14),
    Column("respond_by", "export.respond_by", "datetime", 20),
]
MAX_ROWS = 5000


def export_offers(session: Session, principal: Principal, fmt: str) -> report_files.ExportFile:
    """The partner's offers (admins and auditors: all), newest deadlines last, as a file."""
    page = inbox.list_offers(session, principal, per_page=MAX_ROWS, recipient=disclosure.PARTNER_EXPORT)
    rows = [
        {
            "id": item.id,
            "created_at": item.created_at,
            "category": report_basis.category_label(item.category),
            "status": exports.said(f"export.offer_status.{item.status}"),
            "urgency": texts.render(f"urgency.{item.urgency}"),
            "community": item.community,
            "household": texts.render(item.household_name["code"], item.household_name["params"]),
            "description": privacy.said(item.description),
            "amount_fen": item.amount_fen,
            "accepted_fen": item.accepted_fen,
            "disbursed_fen": item.disbursed_fen,
            "respond_by": item.respond_by,
        }
        for item in page.items
    ]
    return report_files.export_file("offers", fmt, COLUMNS, rows, "export.offers")
