"""The registry of households in hardship: grids, households, members, visits."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, BigId, Fen, IdMixin, JsonDoc, TimestampMixin, utcnow

VISIT_CHANNELS = ("routine", "holiday", "neighbour_report", "self_report", "hotline")
# Where a household stands in the registry: ``active`` is on the caseworker's lists; the
# others (moved away, the one person died, out of hardship) leave them, history kept.
HOUSEHOLD_STATES = ("active", "moved_out", "deceased", "recovered")
# Where the household is registered or lives (城镇/农村, by 户籍 or 常住): it picks the
# county's urban or rural minimum-living line.
RESIDENCES = ("urban", "rural")
# Whether rigid medical spending (自付医疗费用) was given per month or per year.
SPENDING_PERIODS = ("monthly", "yearly")
# Kinds of disability on the disability certificate (残疾类别).
DISABILITY_KINDS = ("visual", "hearing", "speech", "physical", "intellectual", "mental", "multiple")


class Grid(IdMixin, TimestampMixin, Base):
    """district → street → community → grid: the smallest unit a caseworker answers for."""

    __tablename__ = "grids"

    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    district: Mapped[str] = mapped_column(String(80))
    street: Mapped[str] = mapped_column(String(80))
    community: Mapped[str] = mapped_column(String(80))
    # Its community or village node in the region tree; the three names above are that
    # node's path, kept in step by broker.registry.region_tree. NULL only for a grid not
    # yet placed (its county is then its ``district``).
    region_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("regions.id"), index=True)


class Household(IdMixin, TimestampMixin, Base):
    """A household on a grid. The fact columns are derived from its members by the domain
    whenever members change, so that policy rules run as plain column filters."""

    __tablename__ = "households"
    __table_args__ = (
        UniqueConstraint("grid_id", "survey_ref"),
        CheckConstraint("monthly_income_fen >= 0", name="income_nonneg"),
        CheckConstraint("residence IN ('urban','rural')", name="residence"),
        CheckConstraint("medical_spending_period IN ('monthly','yearly')", name="medical_spending_period"),
        Index("ix_households_grid_last_visited", "grid_id", "last_visited_at"),
    )

    grid_id: Mapped[int] = mapped_column(BigId, ForeignKey("grids.id"), index=True)
    survey_ref: Mapped[str | None] = mapped_column(String(60))
    address: Mapped[str] = mapped_column(String(255))
    head_name: Mapped[str] = mapped_column(String(80), default="")
    phone: Mapped[str | None] = mapped_column(String(30))
    monthly_income_fen: Mapped[int] = mapped_column(Fen, default=0)
    consent_to_share: Mapped[bool] = mapped_column(default=False)
    sudden_hardship: Mapped[bool] = mapped_column(default=False)
    notes: Mapped[str] = mapped_column(Text, default="")
    # The asset test and expense-type poverty (支出型贫困) inputs, as the caseworker records them.
    residence: Mapped[str] = mapped_column(String(10), default="urban", server_default="urban")
    financial_assets_fen: Mapped[int] = mapped_column(Fen, default=0, server_default="0")
    motor_vehicles: Mapped[int] = mapped_column(default=0, server_default="0")
    surplus_housing: Mapped[bool] = mapped_column(default=False, server_default=false())
    medical_spending_fen: Mapped[int] = mapped_column(Fen, default=0, server_default="0")
    medical_spending_period: Mapped[str] = mapped_column(String(10), default="monthly", server_default="monthly")
    # Derived facts (see broker.registry.household_facts).
    member_count: Mapped[int] = mapped_column(default=0)
    income_per_capita_fen: Mapped[int] = mapped_column(Fen, default=0)
    school_age_children: Mapped[int] = mapped_column(default=0)
    elderly_count: Mapped[int] = mapped_column(default=0)
    disabled_count: Mapped[int] = mapped_column(default=0)
    severe_disabled_count: Mapped[int] = mapped_column(default=0, server_default="0")
    students_count: Mapped[int] = mapped_column(default=0, server_default="0")
    serious_illness: Mapped[bool] = mapped_column(default=False)
    unemployed_count: Mapped[int] = mapped_column(default=0)
    minors_count: Mapped[int] = mapped_column(default=0, server_default="0")
    unsupported_count: Mapped[int] = mapped_column(default=0, server_default="0")
    financial_assets_per_capita_fen: Mapped[int] = mapped_column(Fen, default=0, server_default="0")
    medical_spending_monthly_fen: Mapped[int] = mapped_column(Fen, default=0, server_default="0")
    income_after_medical_per_capita_fen: Mapped[int] = mapped_column(Fen, default=0, server_default="0")
    last_visited_at: Mapped[datetime | None]
    state: Mapped[str] = mapped_column(String(20), default="active", server_default="active", index=True)
    state_since: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))

    grid: Mapped[Grid] = relationship()
    members: Mapped[list[Member]] = relationship(
        back_populates="household", cascade="all, delete-orphan", order_by="Member.id"
    )
    benefits: Mapped[list[HouseholdBenefit]] = relationship(cascade="all, delete-orphan")


class Member(IdMixin, TimestampMixin, Base):
    """A person in a household. The resident ID is kept encrypted, with a keyed hash
    (unique) so that one person cannot silently sit in two households."""

    __tablename__ = "members"

    household_id: Mapped[int] = mapped_column(BigId, ForeignKey("households.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    id_number_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    id_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    birth_date: Mapped[date | None] = mapped_column(Date)
    sex: Mapped[str | None] = mapped_column(String(1))
    relation: Mapped[str] = mapped_column(String(30), default="")
    conditions: Mapped[list] = mapped_column(JsonDoc, default=list)
    disability_grade: Mapped[int | None]
    schooling: Mapped[str | None] = mapped_column(String(30))
    employment: Mapped[str | None] = mapped_column(String(30))
    disability_kind: Mapped[str | None] = mapped_column(String(20))
    # Has a legal supporter (法定赡养、抚养、扶养义务人) able to support this member:
    # True, False (none, or none able), or None (not recorded).
    supporter_able: Mapped[bool | None]
    # Set when the member died: kept in the record, left out of the household's facts.
    deceased_on: Mapped[date | None] = mapped_column(Date)

    household: Mapped[Household] = relationship(back_populates="members")


class HouseholdBenefit(IdMixin, Base):
    """A government benefit the household already receives (declared, or an approved application)."""

    __tablename__ = "household_benefits"
    __table_args__ = (UniqueConstraint("household_id", "policy_code"),)

    household_id: Mapped[int] = mapped_column(BigId, ForeignKey("households.id"), index=True)
    policy_code: Mapped[str] = mapped_column(String(40), index=True)
    since: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(40), default="declared")
    monthly_amount_fen: Mapped[int | None] = mapped_column(Fen)


class Visit(IdMixin, Base):
    """A visit to a household: who, when, through which channel, what was found."""

    __tablename__ = "visits"
    __table_args__ = (
        CheckConstraint(
            "channel IN ('routine','holiday','neighbour_report','self_report','hotline')",
            name="channel",
        ),
    )

    household_id: Mapped[int] = mapped_column(BigId, ForeignKey("households.id"), index=True)
    caseworker_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    visited_at: Mapped[datetime] = mapped_column(default=utcnow)
    findings: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
