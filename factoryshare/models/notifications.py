"""The notification outbox: every message to a user is stored before anything tries to send it.

A message is rendered once, in the recipient's language, when it is queued (in the same
transaction as the change it reports), and the sender delivers it later. A delivery failure
never deletes a message: it stays `pending` with a later `next_attempt_at`, and after the last
attempt it is kept as `failed` with its error, visible to its recipient and to admins.

The same row is what the recipient reads in the app: unread until `read_at` is set (by the
recipient only). Reading it and delivering it are independent.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from factoryshare.db import Base, IdType, UTCDateTime, utcnow


class NotificationStatus(str, enum.Enum):
    pending = "pending"
    sent = "sent"
    failed = "failed"


class Notification(Base):
    __tablename__ = "notifications"
    __label__ = "Notification"
    __table_args__ = (
        # The same dedup key for the same user is stored once (NULL keys never clash).
        UniqueConstraint("user_id", "key", name="uq_notifications_user_key"),
        CheckConstraint("attempts >= 0", name="attempts_non_negative"),
        # What the sender scans for: due pending messages.
        Index("ix_notifications_status_next_attempt", "status", "next_attempt_at"),
        # The unread count of one user.
        Index("ix_notifications_user_read", "user_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    template: Mapped[str] = mapped_column(String(60))
    language: Mapped[str] = mapped_column(String(2))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    key: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[NotificationStatus] = mapped_column(
        Enum(
            NotificationStatus,
            native_enum=False,
            create_constraint=True,
            length=20,
            name="notification_status",
        ),
        default=NotificationStatus.pending,
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # When its recipient marked it read in the app; None: unread.
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
