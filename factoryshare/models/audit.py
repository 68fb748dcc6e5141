"""The audit trail: who did what to which object, when, with values before and after."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from factoryshare.db import Base, IdType, UTCDateTime, utcnow


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_object", "object_type", "object_id"),
        # The trail's order (newest first) and its cursor's position: a page is read from it.
        Index("ix_audit_events_at_id", "at", "id"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str] = mapped_column(String(60))
    object_id: Mapped[str] = mapped_column(String(60))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The production house the object belongs to, taken when the event is recorded (no
    # foreign key: the trail outlives the house). Managers read the events of their houses.
    house_id: Mapped[int | None] = mapped_column(IdType, index=True)
