"""Bookings of machine time, per-member weekly quotas, and stored idempotent answers."""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from factoryshare.db import Base, IdType, UTCDateTime, utcnow
from factoryshare.models.houses import Capability, Machine

if TYPE_CHECKING:
    from factoryshare.models.members import Member


class BookingStatus(str, enum.Enum):
    held = "held"
    confirmed = "confirmed"
    completed = "completed"
    no_show = "no_show"
    cancelled = "cancelled"


class BookingSource(str, enum.Enum):
    direct = "direct"
    solver = "solver"


# A booking in one of these states occupies its machine's time.
LIVE_STATUSES = (BookingStatus.held, BookingStatus.confirmed)


class Booking(Base):
    """A member's use of one machine over [start_at, end_at).

    On PostgreSQL the migration adds an exclusion constraint (btree_gist) so that two live
    bookings of one machine can never overlap, whatever the timing; it is not declared here
    because it is PostgreSQL-only.
    """

    __tablename__ = "bookings"
    __label__ = "Booking"
    __table_args__ = (
        CheckConstraint("end_at > start_at", name="ends_after_start"),
        CheckConstraint("price >= 0", name="price_non_negative"),
        Index("ix_bookings_machine_start", "machine_id", "start_at"),
        # The lists' order (start, id): a page is read from the index, no sort.
        Index("ix_bookings_start_id", "start_at", "id"),
        # The holds that ran out (expire_holds).
        Index("ix_bookings_status_hold_expires", "status", "hold_expires_at"),
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
    start_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    status: Mapped[BookingStatus] = mapped_column(
        Enum(
            BookingStatus,
            native_enum=False,
            create_constraint=True,
            length=20,
            name="booking_status",
        ),
        default=BookingStatus.confirmed,
    )
    source: Mapped[BookingSource] = mapped_column(
        Enum(
            BookingSource,
            native_enum=False,
            create_constraint=True,
            length=20,
            name="booking_source",
        ),
        default=BookingSource.direct,
    )
    # Integer rupiah, frozen when booked (or moved).
    price: Mapped[int] = mapped_column(BigInteger)
    hourly_rate: Mapped[int] = mapped_column(BigInteger)
    note: Mapped[str] = mapped_column(String(500), default="")
    hold_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("users.id", ondelete="SET NULL")
    )
    cancelled_reason: Mapped[str | None] = mapped_column(String(300))
    # The weekly series this booking is one occurrence of, if any.
    series_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("booking_series.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    machine: Mapped[Machine] = relationship()
    member: Mapped[Member] = relationship("Member")

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_STATUSES


class BookingQuota(Base):
    """At most `hours_per_week` hours per member per ISO week on machines of a capability."""

    __tablename__ = "booking_quotas"
    __table_args__ = (
        UniqueConstraint("house_id", "capability_id", name="uq_booking_quotas_house_capability"),
        CheckConstraint("hours_per_week > 0", name="hours_per_week_positive"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    house_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("production_houses.id", ondelete="CASCADE"), index=True
    )
    capability_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("capabilities.id", ondelete="CASCADE")
    )
    hours_per_week: Mapped[int] = mapped_column(Integer)

    capability: Mapped[Capability] = relationship()


class IdempotencyKey(Base):
    """The first answer to a POST carrying an Idempotency-Key, replayed on a retry."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_idempotency_keys_user_key"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    user_id: Mapped[int] = mapped_column(IdType, ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[Any] = mapped_column(JSON, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
