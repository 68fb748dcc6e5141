"""What members add around single bookings: weekly series, the waitlist for taken slots and
the private calendar feed of their bookings."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Time,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from factoryshare.db import Base, IdType, UTCDateTime, utcnow
from factoryshare.models.houses import Machine


class SeriesStatus(str, enum.Enum):
    active = "active"
    cancelled = "cancelled"


class BookingSeries(Base):
    """The same slot every week: from `first_date` to `last_date` (house-local dates, both
    included) on the weekday of `first_date`, `start_time`–`end_time` in the house's zone.

    `skipped` keeps every occurrence that could not be booked when the series was made, with
    the reason (code and message), so the member sees what is missing."""

    __tablename__ = "booking_series"
    __label__ = "Booking series"
    __table_args__ = (
        CheckConstraint("last_date >= first_date", name="last_not_before_first"),
        CheckConstraint("end_time > start_time", name="ends_after_start"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    machine_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("machines.id", ondelete="RESTRICT"), index=True
    )
    member_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("members.id", ondelete="RESTRICT"), index=True
    )
    product_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("products.id", ondelete="SET NULL")
    )
    first_date: Mapped[dt.date] = mapped_column(Date)
    last_date: Mapped[dt.date] = mapped_column(Date)
    start_time: Mapped[dt.time] = mapped_column(Time)
    end_time: Mapped[dt.time] = mapped_column(Time)
    note: Mapped[str] = mapped_column(String(500), default="")
    skip_conflicts: Mapped[bool] = mapped_column(default=False)
    skipped: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    status: Mapped[SeriesStatus] = mapped_column(
        Enum(
            SeriesStatus, native_enum=False, create_constraint=True, length=20, name="series_status"
        ),
        default=SeriesStatus.active,
    )
    created_by_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    machine: Mapped[Machine] = relationship()


class WaitStatus(str, enum.Enum):
    # Waiting for the slot to free.
    waiting = "waiting"
    # The slot freed and this member was told; it may book it now.
    notified = "notified"
    # The member (or a manager) withdrew it.
    cancelled = "cancelled"


class WaitlistEntry(Base):
    """A member waiting for [start_at, end_at) on a machine that is booked then.

    When a booking that overlapped it frees its time and the whole wanted slot is free, the
    entry that has waited longest is told (one member per freed slot; see services.waitlist)."""

    __tablename__ = "waitlist_entries"
    __label__ = "Waitlist entry"
    __table_args__ = (
        CheckConstraint("end_at > start_at", name="ends_after_start"),
        Index("ix_waitlist_machine_status_start", "machine_id", "status", "start_at"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    machine_id: Mapped[int] = mapped_column(IdType, ForeignKey("machines.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("members.id", ondelete="CASCADE"), index=True
    )
    start_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    status: Mapped[WaitStatus] = mapped_column(
        Enum(WaitStatus, native_enum=False, create_constraint=True, length=20, name="wait_status"),
        default=WaitStatus.waiting,
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    notified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("users.id", ondelete="SET NULL")
    )

    machine: Mapped[Machine] = relationship()


class CalendarFeed(Base):
    """A member's private iCalendar feed. Only the SHA-256 of the token is kept: whoever
    holds the address can read the member's bookings, so it is shown once and can be replaced
    (which ends the old address) or revoked."""

    __tablename__ = "calendar_feeds"
    __label__ = "Calendar feed"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    member_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("members.id", ondelete="CASCADE"), unique=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    read_count: Mapped[int] = mapped_column(Integer, default=0)
