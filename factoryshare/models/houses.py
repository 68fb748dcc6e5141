"""Production houses, their machines, capabilities, closures and downtimes."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from factoryshare.db import Base, IdType, UTCDateTime, utcnow

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# A weekday mapped to its opening intervals as ("HH:MM", "HH:MM") pairs in the house's
# local time. A day missing from the map, or mapped to an empty list, is closed.
OpeningHours = dict[str, list[list[str]]]


class HouseClosure(Base):
    """Days a house is closed beyond the national calendar (inclusive date range, local)."""

    __tablename__ = "house_closures"
    __table_args__ = (CheckConstraint("end_on >= start_on", name="ends_after_start"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    house_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("production_houses.id", ondelete="CASCADE"), index=True
    )
    start_on: Mapped[dt.date] = mapped_column(Date)
    end_on: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(200), default="")


class ProductionHouse(Base):
    __tablename__ = "production_houses"
    __table_args__ = (
        CheckConstraint("slot_minutes > 0 AND slot_minutes <= 240", name="slot_minutes_range"),
        CheckConstraint("hold_minutes >= 0", name="hold_minutes_non_negative"),
        CheckConstraint("max_days_ahead > 0", name="max_days_ahead_positive"),
        CheckConstraint("no_show_grace_minutes >= 0", name="no_show_grace_non_negative"),
        CheckConstraint("frozen_hours >= 0 AND frozen_hours <= 336", name="frozen_hours_range"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    address: Mapped[str] = mapped_column(String(300), default="")
    region: Mapped[str] = mapped_column(String(120), default="")
    timezone: Mapped[str] = mapped_column(String(64))
    opening_hours: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Bookings start and end on multiples of this many minutes from local midnight.
    slot_minutes: Mapped[int] = mapped_column(Integer, default=30)
    # When true a member's new booking is held until a manager confirms it.
    requires_confirmation: Mapped[bool] = mapped_column(Boolean, default=False)
    # A hold not confirmed within this many minutes expires.
    hold_minutes: Mapped[int] = mapped_column(Integer, default=24 * 60)
    # How far ahead a member may book.
    max_days_ahead: Mapped[int] = mapped_column(Integer, default=60)
    # A held slot waiting for a loan is released when its application is still undecided
    # this many days before the slot starts; None: the house sets no such deadline.
    financing_decision_days: Mapped[int | None] = mapped_column(Integer)
    # A confirmed booking may be marked a no-show this many minutes after it started.
    no_show_grace_minutes: Mapped[int] = mapped_column(Integer, default=15, server_default="15")
    # When true the permits members record themselves count at the gate without a manager's
    # verification (a rejected one still never does).
    trust_member_permits: Mapped[bool] = mapped_column(Boolean, default=False)
    # A re-plan keeps published solver work starting within this many hours from now on its
    # machine and time (the frozen near future: people and material are arranged for it).
    frozen_hours: Mapped[int] = mapped_column(Integer, default=24, server_default="24")
    contact_phone: Mapped[str] = mapped_column(String(30), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    closures: Mapped[list[HouseClosure]] = relationship(
        cascade="all, delete-orphan", order_by=HouseClosure.start_on
    )
    machines: Mapped[list[Machine]] = relationship(back_populates="house", order_by="Machine.id")


class Capability(Base):
    """What a machine can do: `sewing`, `embroidery`, `vacuum_frying`, `sealing` ..."""

    __tablename__ = "capabilities"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    # A step of this capability may pause while its machine is closed (sewing, embroidery,
    # cutting) and go on the next open day; a batch that must run through (vacuum frying,
    # roasting, sealing) may not.
    pausable: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


machine_capabilities = Table(
    "machine_capabilities",
    Base.metadata,
    Column("machine_id", IdType, ForeignKey("machines.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "capability_id",
        IdType,
        ForeignKey("capabilities.id", ondelete="RESTRICT"),
        primary_key=True,
    ),
    # The machines of a capability (availability, alternatives, planning).
    Index("ix_machine_capabilities_capability_id", "capability_id"),
)


class MachineStatus(str, enum.Enum):
    active = "active"
    maintenance = "maintenance"
    retired = "retired"


class Machine(Base):
    __tablename__ = "machines"
    __table_args__ = (
        UniqueConstraint("house_id", "code", name="uq_machines_house_code"),
        CheckConstraint("hourly_rate >= 0", name="hourly_rate_non_negative"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    house_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("production_houses.id", ondelete="RESTRICT"), index=True
    )
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(120))
    # Integer rupiah per hour.
    hourly_rate: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[MachineStatus] = mapped_column(
        Enum(
            MachineStatus,
            native_enum=False,
            create_constraint=True,
            length=20,
            name="machine_status",
        ),
        default=MachineStatus.active,
    )
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    house: Mapped[ProductionHouse] = relationship(back_populates="machines")
    capabilities: Mapped[list[Capability]] = relationship(
        secondary=machine_capabilities, order_by=Capability.code
    )


class DowntimeKind(str, enum.Enum):
    maintenance = "maintenance"
    breakdown = "breakdown"


class Downtime(Base):
    """A window in which a machine cannot be used."""

    __tablename__ = "downtimes"
    __table_args__ = (CheckConstraint("end_at > start_at", name="ends_after_start"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    machine_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("machines.id", ondelete="CASCADE"), index=True
    )
    start_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    kind: Mapped[DowntimeKind] = mapped_column(
        Enum(
            DowntimeKind, native_enum=False, create_constraint=True, length=20, name="downtime_kind"
        ),
        default=DowntimeKind.maintenance,
    )
    reason: Mapped[str] = mapped_column(String(300), default="")
    created_by_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    machine: Mapped[Machine] = relationship()
