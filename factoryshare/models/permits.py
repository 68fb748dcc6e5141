"""Izin edar: permit types and requirements (editable reference data), permits, overrides, flags.

- `PermitType` says how a kind of permit behaves: whether it expires, its usual term, how long
  before expiry it counts as "expiring" (the renewal window) and any grace after expiry.
- `PermitRequirement` says which products need which types. A product matches a row when every
  matcher that is set (sector, kind, product) equals the product's and its family is not the
  row's `unless_family`. Rows of one product-match that share a `one_of` group are alternatives
  (P-IRT or BPOM MD): one valid permit of any of them satisfies the group.
- `Permit` is what a member holds: for a product, or for the business (product_id null, NIB).
  Its `verification` (submitted, verified, rejected) is separate from the date-derived state:
  a member's own entry is `submitted` until a manager of the member's house or an admin
  checks its number and document.
- `PermitVerificationRecord` keeps each change of a permit's verification: who, when, to what,
  with the verifier's note (a rejection's reason). The last one is the permit's current one.
- `PermitOverride` is a house manager's audited decision to let a product be produced anyway.
- `PermitFlag` remembers which booking or loan application the watch already flagged for a
  lapse, so that each is flagged (and notified) once.
- `PermitDocumentContent` holds the bytes of a permit's scanned document, in the database (bytea
  on PostgreSQL, BLOB on SQLite) and in the same transaction as the permit: a failed upload
  leaves nothing, replacing or deleting the document or the permit removes the old bytes, and
  any web host can serve them. The name, type and size stay on the permit, so listing permits
  never loads the bytes.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from factoryshare.db import Base, IdType, UTCDateTime, utcnow


class Expiry(str, enum.Enum):
    none = "none"  # valid until revoked or the product changes (NIB, halal)
    optional = "optional"  # some certificates carry an end date (SNI)
    required = "required"  # always has one (P-IRT, BPOM, trademark)


class PermitLevel(str, enum.Enum):
    business = "business"
    product = "product"


class PermitStatus(str, enum.Enum):
    pending = "pending"  # applied for, not issued yet
    active = "active"  # issued; validity then follows from the dates
    needs_review = "needs_review"  # halal after the recipe or process changed


class PermitVerification(str, enum.Enum):
    submitted = "submitted"  # entered by the member, not checked yet
    verified = "verified"  # a manager of the member's house or an admin checked it
    rejected = "rejected"  # checked and found wrong (the reason is the note)


class PermitType(Base):
    __tablename__ = "permit_types"
    __table_args__ = (
        CheckConstraint("validity_years IS NULL OR validity_years > 0", name="validity_positive"),
        CheckConstraint("renewal_window_days >= 0", name="renewal_window_non_negative"),
        CheckConstraint("grace_days >= 0", name="grace_non_negative"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    level: Mapped[PermitLevel] = mapped_column(
        Enum(PermitLevel, native_enum=False, create_constraint=True, length=20, name="permit_level")
    )
    expiry: Mapped[Expiry] = mapped_column(
        Enum(Expiry, native_enum=False, create_constraint=True, length=20, name="permit_expiry")
    )
    # The usual term in years (checked against the entered dates), null when none is fixed.
    validity_years: Mapped[int | None] = mapped_column(Integer)
    # Days before expiry from which the permit shows as "expiring" and renewal can start.
    renewal_window_days: Mapped[int] = mapped_column(Integer, default=90)
    # Days after expiry in which a late renewal is still accepted (trademark: 6 months).
    grace_days: Mapped[int] = mapped_column(Integer, default=0)
    issuer: Mapped[str] = mapped_column(String(160), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class PermitRequirement(Base):
    __tablename__ = "permit_requirements"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    permit_type_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("permit_types.id", ondelete="RESTRICT"), index=True
    )
    # Matchers: null matches any product.
    sector: Mapped[str | None] = mapped_column(String(20))
    kind: Mapped[str | None] = mapped_column(String(30))
    product_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("products.id", ondelete="CASCADE"), index=True
    )
    # Not required of products of this family (halal: not of `non_halal` products).
    unless_family: Mapped[str | None] = mapped_column(String(40))
    # Requirements with the same group (for the same matchers) are alternatives.
    one_of: Mapped[str] = mapped_column(String(40))
    note: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    permit_type: Mapped[PermitType] = relationship()


class Permit(Base):
    __tablename__ = "permits"
    __table_args__ = (
        CheckConstraint(
            "expires_on IS NULL OR issued_on IS NULL OR expires_on > issued_on",
            name="expires_after_issue",
        ),
        CheckConstraint(
            "document_size IS NULL OR document_size >= 0", name="document_size_non_negative"
        ),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    member_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("members.id", ondelete="RESTRICT"), index=True
    )
    product_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("products.id", ondelete="RESTRICT"), index=True
    )
    permit_type_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("permit_types.id", ondelete="RESTRICT"), index=True
    )
    number: Mapped[str] = mapped_column(String(60), default="")
    issuer: Mapped[str] = mapped_column(String(160), default="")
    issued_on: Mapped[dt.date | None] = mapped_column(Date)
    expires_on: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[PermitStatus] = mapped_column(
        Enum(
            PermitStatus, native_enum=False, create_constraint=True, length=20, name="permit_status"
        ),
        default=PermitStatus.active,
    )
    review_reason: Mapped[str | None] = mapped_column(String(300))
    # Whether the entry was checked: only verified permits open the gate, unless the member's
    # house trusts its members' entries (then submitted ones count too; rejected never do).
    # Who set it, when and why: `verification_records` (the last one).
    verification: Mapped[PermitVerification] = mapped_column(
        Enum(
            PermitVerification,
            native_enum=False,
            create_constraint=True,
            length=20,
            name="permit_verification",
        ),
        default=PermitVerification.submitted,
    )
    # The derived state the watch last saw (valid, expiring, expired, ...): it notifies changes.
    last_state: Mapped[str | None] = mapped_column(String(20))
    # The scanned document's metadata; its bytes are in `permit_document_contents`. A permit
    # has a document when `document_size` is set.
    document_mime: Mapped[str | None] = mapped_column(String(50))
    document_size: Mapped[int | None] = mapped_column(Integer)
    document_name: Mapped[str | None] = mapped_column(String(200))
    # Reminder days (90, 30, 7) already sent for the current expiry date.
    reminders_sent: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    permit_type: Mapped[PermitType] = relationship()
    # Loaded only when read (the download); the database deletes it with the permit.
    document_content: Mapped[PermitDocumentContent | None] = relationship(
        back_populates="permit", cascade="all, delete-orphan", passive_deletes=True, uselist=False
    )

    verification_records: Mapped[list[PermitVerificationRecord]] = relationship(
        back_populates="permit",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="PermitVerificationRecord.id",
    )

    @property
    def has_document(self) -> bool:
        return self.document_size is not None

    @property
    def last_verification(self) -> PermitVerificationRecord | None:
        return self.verification_records[-1] if self.verification_records else None


class PermitVerificationRecord(Base):
    """One change of a permit's verification: entered, verified, rejected, changed again."""

    __tablename__ = "permit_verification_records"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    permit_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("permits.id", ondelete="CASCADE"), index=True
    )
    verification: Mapped[PermitVerification] = mapped_column(
        Enum(
            PermitVerification,
            native_enum=False,
            create_constraint=True,
            length=20,
            name="permit_verification",
        )
    )
    # The user who entered, changed, verified or rejected it (null: the system, a migration).
    by_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The verifier's note; a rejection's reason; what changed for a resubmission.
    note: Mapped[str | None] = mapped_column(String(500))

    permit: Mapped[Permit] = relationship(back_populates="verification_records")


class PermitDocumentContent(Base):
    """The bytes of a permit's document: one row per permit that has one."""

    __tablename__ = "permit_document_contents"

    permit_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("permits.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    permit: Mapped[Permit] = relationship(back_populates="document_content")


class PermitOverride(Base):
    """A manager lets a product be produced without its permits, for a reason, for a while."""

    __tablename__ = "permit_overrides"
    __table_args__ = (CheckConstraint("valid_until > valid_from", name="until_after_from"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    product_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("products.id", ondelete="CASCADE"), index=True
    )
    manager_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("users.id", ondelete="SET NULL")
    )
    reason: Mapped[str] = mapped_column(String(500))
    valid_from: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class PermitFlag(Base):
    """A booking or loan application the watch found to need a permit that is missing or lapses."""

    __tablename__ = "permit_flags"
    __table_args__ = (
        UniqueConstraint("subject", "subject_id", "key", name="uq_permit_flags_subject_key"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    # "booking" or "loan_application".
    subject: Mapped[str] = mapped_column(String(30))
    subject_id: Mapped[int] = mapped_column(IdType)
    # What was found, stable across runs: "<requirement group>:<lapse date or none>[:link]".
    key: Mapped[str] = mapped_column(String(120))
    permit_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("permits.id", ondelete="CASCADE"), index=True
    )
    product_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("products.id", ondelete="CASCADE")
    )
    # The last day the permit is valid (null when none was ever valid).
    lapse_on: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
