"""Production requests and the operations expanded from a product's routing.

A member asks for `quantity` units of a product between `earliest_start` and `due`; each
routing step becomes one RequestOperation whose minutes are setup + per unit x quantity.
The scheduler turns open requests into machine time.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Enum,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from factoryshare.db import Base, IdType, UTCDateTime, utcnow

if TYPE_CHECKING:  # the classes named in relationships, for the type checker only
    from factoryshare.models.houses import Capability, ProductionHouse
    from factoryshare.models.members import Product


class RequestStatus(str, enum.Enum):
    open = "open"
    scheduled = "scheduled"
    cancelled = "cancelled"
    done = "done"


class ProductionRequest(Base):
    __tablename__ = "production_requests"
    __label__ = "Production request"
    __table_args__ = (
        CheckConstraint("quantity >= 1", name="quantity_positive"),
        CheckConstraint("priority >= 1", name="priority_positive"),
        CheckConstraint("due > earliest_start", name="due_after_start"),
        CheckConstraint("lot_size IS NULL OR lot_size >= 1", name="lot_size_positive"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    member_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("members.id", ondelete="RESTRICT"), index=True
    )
    # The house that will produce it: the member's house when the request was made.
    house_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("production_houses.id", ondelete="RESTRICT"), index=True
    )
    product_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("products.id", ondelete="RESTRICT"), index=True
    )
    quantity: Mapped[int] = mapped_column(Integer)
    earliest_start: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    due: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # Weight of this request's tardiness in the schedule's objective (1 = normal).
    priority: Mapped[int] = mapped_column(Integer, default=1)
    # Planned in lots of at most this many units (the member's choice, or the smallest
    # max_lot of the product's steps); None: one lot of the whole quantity.
    lot_size: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[RequestStatus] = mapped_column(
        Enum(
            RequestStatus,
            native_enum=False,
            create_constraint=True,
            length=20,
            name="production_request_status",
        ),
        default=RequestStatus.open,
        index=True,
    )
    created_by_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    house: Mapped[ProductionHouse] = relationship()
    product: Mapped[Product] = relationship()
    operations: Mapped[list[RequestOperation]] = relationship(
        cascade="all, delete-orphan",
        order_by="RequestOperation.position",
        back_populates="request",
    )


class RequestOperation(Base):
    """One routing step of a request, with its total minutes for the requested quantity."""

    __tablename__ = "request_operations"
    __table_args__ = (
        UniqueConstraint("request_id", "position", name="uq_request_operations_request_position"),
        CheckConstraint("position >= 1", name="position_positive"),
        CheckConstraint("minutes >= 1", name="minutes_positive"),
        CheckConstraint("min_lag_minutes >= 0", name="min_lag_non_negative"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    request_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("production_requests.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    capability_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("capabilities.id", ondelete="RESTRICT")
    )
    minutes: Mapped[int] = mapped_column(Integer)
    min_lag_minutes: Mapped[int] = mapped_column(Integer, default=0)
    # The step's setup, part of `minutes`, paid again by each lot.
    setup_minutes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    request: Mapped[ProductionRequest] = relationship(back_populates="operations")
    capability: Mapped[Capability] = relationship()


class RunStatus(str, enum.Enum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    published = "published"
    discarded = "discarded"
    # The published schedule changed after the run was solved: publishing it would book
    # against a picture that is no longer true; the manager queues a fresh run.
    stale = "stale"


class ScheduleRun(Base):
    """One solve of a house's open requests over a horizon, queued for a worker."""

    __tablename__ = "schedule_runs"
    __label__ = "Schedule run"
    __table_args__ = (
        CheckConstraint("horizon_end > horizon_start", name="horizon_positive"),
        CheckConstraint("time_limit_seconds >= 1", name="time_limit_positive"),
        CheckConstraint("attempts >= 0", name="attempts_non_negative"),
        CheckConstraint("purpose IN ('plan', 'replan')", name="purpose_known"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    house_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("production_houses.id", ondelete="RESTRICT"), index=True
    )
    horizon_start: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    horizon_end: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    time_limit_seconds: Mapped[int] = mapped_column(Integer)
    status: Mapped[RunStatus] = mapped_column(
        Enum(
            RunStatus,
            native_enum=False,
            create_constraint=True,
            length=20,
            name="schedule_run_status",
        ),
        default=RunStatus.queued,
        index=True,
    )
    requested_by_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("users.id", ondelete="SET NULL")
    )
    worker_id: Mapped[str | None] = mapped_column(String(120))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    problem: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    solution: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    kpis: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    # "plan" places open requests; "replan" re-places the published work a downtime hit.
    purpose: Mapped[str] = mapped_column(String(20), default="plan", server_default="plan")
    # What the run honours beyond the problem (family cleaning, share cap, and for a re-plan
    # the requests and the downtime), as the manager asked for it.
    policies: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    house: Mapped[ProductionHouse] = relationship()
    assignments: Mapped[list[ScheduleAssignment]] = relationship(
        cascade="all, delete-orphan",
        order_by="ScheduleAssignment.start_at",
        back_populates="run",
    )


class ScheduleAssignment(Base):
    """One operation placed on one machine by a run; booking_id once published."""

    __tablename__ = "schedule_assignments"
    __table_args__ = (CheckConstraint("end_at > start_at", name="end_after_start"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    run_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("schedule_runs.id", ondelete="CASCADE"), index=True
    )
    operation_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("request_operations.id", ondelete="CASCADE"), index=True
    )
    machine_id: Mapped[int] = mapped_column(IdType, ForeignKey("machines.id", ondelete="RESTRICT"))
    start_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    booking_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("bookings.id", ondelete="SET NULL")
    )
    # Which lot of a request planned in lots (1, 2, ...); None: the whole request.
    lot: Mapped[int | None] = mapped_column(Integer)
    # A step that pauses while its machine is closed is placed in pieces, one per stretch of
    # open time it works in, each with its own booking (1, 2, ...); None: in one piece.
    piece: Mapped[int | None] = mapped_column(Integer)

    run: Mapped[ScheduleRun] = relationship(back_populates="assignments")
    operation: Mapped[RequestOperation] = relationship()
