"""Accounts: users, their roles and scopes, and API tokens."""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from factoryshare.db import Base, IdType, UTCDateTime, utcnow

if TYPE_CHECKING:  # the classes named in relationships, for the type checker only
    from factoryshare.models.financing import Lender
    from factoryshare.models.houses import ProductionHouse
    from factoryshare.models.members import Aggregator, Member


class Role(str, enum.Enum):
    admin = "admin"
    manager = "manager"
    member = "member"
    aggregator = "aggregator"
    lender = "lender"  # a bank's or cooperative's credit officer


LANGUAGES = ("id", "en")

# A manager runs one or more houses; this is the manager's scope.
house_managers = Table(
    "house_managers",
    Base.metadata,
    Column("user_id", IdType, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "house_id", IdType, ForeignKey("production_houses.id", ondelete="CASCADE"), primary_key=True
    ),
    # A house's managers (who to tell, who may act): the key leads with user_id.
    Index("ix_house_managers_house_id", "house_id"),
)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        # The role fixes which scope column is used: a member user belongs to exactly one
        # member business, an aggregator user to exactly one aggregator organisation.
        CheckConstraint(
            "(role = 'member') = (member_id IS NOT NULL)", name="member_scope_matches_role"
        ),
        CheckConstraint(
            "(role = 'aggregator') = (aggregator_id IS NOT NULL)",
            name="aggregator_scope_matches_role",
        ),
        # A lender user is a credit officer of exactly one lender institution.
        CheckConstraint(
            "(role = 'lender') = (lender_id IS NOT NULL)", name="lender_scope_matches_role"
        ),
        CheckConstraint("language IN ('id', 'en')", name="language_known"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, create_constraint=True, length=20, name="role")
    )
    language: Mapped[str] = mapped_column(String(2), default="id")
    member_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("members.id", ondelete="RESTRICT"), index=True
    )
    aggregator_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("aggregators.id", ondelete="RESTRICT"), index=True
    )
    lender_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("lenders.id", ondelete="RESTRICT"), index=True
    )
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    houses: Mapped[list[ProductionHouse]] = relationship(
        secondary=house_managers, order_by="ProductionHouse.id"
    )
    member: Mapped[Member | None] = relationship()
    aggregator: Mapped[Aggregator | None] = relationship()
    lender: Mapped[Lender | None] = relationship()


class ApiToken(Base):
    """An opaque bearer token; only its SHA-256 hash is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class SignInFailure(Base):
    """Failed sign-ins for an e-mail address that has no account, counted and locked exactly
    like `User.failed_logins` / `User.locked_until`, so that an unknown address answers the
    same as a known one with a wrong password, lock included. Only the SHA-256 of the
    normalised address is kept; rows idle for a day are pruned."""

    __tablename__ = "sign_in_failures"

    address_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_failed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
