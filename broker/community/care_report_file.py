"""The care figures as a spreadsheet that opens in Excel: the headline figures, then one
row per grid and special group with the members in it and those without a care plan,
headers and group names in the reader's language."""

from __future__ import annotations

from sqlalchemy.orm import Session

from broker.community.care_figures import figures
from broker.money import report_files
from broker.money.exports import Column
from broker.platform import texts
from broker.platform.scope import Principal
from broker.platform.texts import N_, define
from broker.registry import special_groups
from models.special_groups import SPECIAL_GROUPS

define(
    {
        "care_report.title": N_("Care plans"),
        "care_report.grid": N_("Grid"),
        "care_report.what": N_("Figure or group"),
        "care_report.count": N_("How many"),
        "care_report.without_plan": N_("Without a care plan"),
        "care_report.all_grids": N_("All grids"),
        "care_report.children_mentored": N_("Children mentored"),
        "care_report.contacts_due": N_("Contacts due"),
        "care_report.contacts_on_time": N_("Contacts on time"),
        "care_report.contacts_missed": N_("Contacts missed"),
        "care_report.regularity_pct": N_("Contact regularity (per cent on time)"),
        "care_report.elderly_alone_cared": N_("Elderly living alone with a doctor and a volunteer"),
        "care_report.camp_attendances": N_("Growth-camp attendances"),
    }
)

COLUMNS = [
    Column("grid", "care_report.grid", width=16),
    Column("what", "care_report.what", width=40),
    Column("count", "care_report.count", kind="number", width=12),
    Column("without_plan", "care_report.without_plan", kind="int", width=16),
]
HEADLINES = (
    "children_mentored",
    "contacts_due",
    "contacts_on_time",
    "contacts_missed",
    "regularity_pct",
    "elderly_alone_cared",
    "camp_attendances",
)


def export_care_report(session: Session, principal: Principal) -> report_files.ExportFile:
    """The figures of the principal's grids as an XLSX workbook."""
    found = figures(session, principal)
    numbers = found.as_dict()
    everywhere = texts.render("care_report.all_grids")
    rows: list[dict] = [
        {"grid": everywhere, "what": texts.render(f"care_report.{key}"), "count": numbers[key], "without_plan": None}
        for key in HEADLINES
    ]
    for group in SPECIAL_GROUPS:
        rows.append(
            {
                "grid": everywhere,
                "what": special_groups.group_name(group),
                "count": found.in_group[group],
                "without_plan": found.without_plan[group],
            }
        )
    for grid in found.grids:
        for group, n in grid["in_group"].items():
            rows.append(
                {
                    "grid": grid["grid"],
                    "what": special_groups.group_name(group),
                    "count": n,
                    "without_plan": grid["without_plan"][group],
                }
            )
    return report_files.export_file("care-plans", "xlsx", COLUMNS, rows, texts.render("care_report.title"))
