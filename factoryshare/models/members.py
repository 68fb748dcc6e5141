"""Members (UMKM businesses), aggregators, clusters and products with their routings."""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from factoryshare.db import Base, IdType, UTCDateTime, utcnow

if TYPE_CHECKING:  # the classes named in relationships, for the type checker only
    from factoryshare.models.houses import Capability


class Sector(str, enum.Enum):
    fashion = "fashion"
    culinary = "culinary"
    craft = "craft"
    other = "other"


def _sector_enum(name: str) -> Enum:
    return Enum(Sector, native_enum=False, create_constraint=True, length=20, name=name)


class Member(Base):
    """A UMKM business using a production house."""

    __tablename__ = "members"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    # The house the member is registered with; its managers look after the member.
    house_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("production_houses.id", ondelete="RESTRICT"), index=True
    )
    business_name: Mapped[str] = mapped_column(String(160))
    # Nomor Induk Berusaha: 13 digits from OSS-RBA, one per business.
    nib: Mapped[str] = mapped_column(String(13), unique=True)
    owner_name: Mapped[str] = mapped_column(String(120))
    # Nomor Induk Kependudukan of the owner: 16 digits, validated with python-stdnum.
    owner_nik: Mapped[str] = mapped_column(String(16))
    npwp: Mapped[str | None] = mapped_column(String(16))
    sector: Mapped[Sector] = mapped_column(_sector_enum("member_sector"))
    phone: Mapped[str] = mapped_column(String(30), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    # Annual turnover in rupiah as declared by the member (KUR eligibility uses it).
    annual_turnover: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    products: Mapped[list[Product]] = relationship(back_populates="member", order_by="Product.id")


class Aggregator(Base):
    """An offtaker organisation that groups members into clusters and endorses their loans."""

    __tablename__ = "aggregators"
    __table_args__ = (CheckConstraint("approval_limit >= 0", name="approval_limit_non_negative"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    name: Mapped[str] = mapped_column(String(160), unique=True)
    nib: Mapped[str | None] = mapped_column(String(13), unique=True)
    address: Mapped[str] = mapped_column(String(300), default="")
    phone: Mapped[str] = mapped_column(String(30), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    # An approval above this amount (rupiah) needs a second aggregator user.
    approval_limit: Mapped[int] = mapped_column(BigInteger, default=500_000_000)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    clusters: Mapped[list[Cluster]] = relationship(
        back_populates="aggregator", order_by="Cluster.id"
    )


# The accepted memberships: a row here only once the member (or the manager of its house on
# its behalf) accepted the cluster's invitation. Every scope rule reads this table.
cluster_members = Table(
    "cluster_members",
    Base.metadata,
    Column("cluster_id", IdType, ForeignKey("clusters.id", ondelete="CASCADE"), primary_key=True),
    Column("member_id", IdType, ForeignKey("members.id", ondelete="RESTRICT"), primary_key=True),
    # A member's clusters (its scope, an aggregator's members).
    Index("ix_cluster_members_member_id", "member_id"),
)


class Cluster(Base):
    """An aggregator's group of members (the KUR Klaster borrower group)."""

    __tablename__ = "clusters"
    __table_args__ = (
        UniqueConstraint("aggregator_id", "name", name="uq_clusters_aggregator_name"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    aggregator_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("aggregators.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(String(160))
    sector: Mapped[Sector] = mapped_column(_sector_enum("cluster_sector"))
    house_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("production_houses.id", ondelete="RESTRICT"), index=True
    )
    chair_member_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("members.id", ondelete="RESTRICT")
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    aggregator: Mapped[Aggregator] = relationship(back_populates="clusters")
    members: Mapped[list[Member]] = relationship(secondary=cluster_members, order_by=Member.id)
    chair: Mapped[Member | None] = relationship(foreign_keys=[chair_member_id])
    invitations: Mapped[list[ClusterInvitation]] = relationship(
        back_populates="cluster",
        order_by="ClusterInvitation.id",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    @property
    def pending_invitations(self) -> list[ClusterInvitation]:
        return [i for i in self.invitations if i.status is InvitationStatus.invited]


class InvitationStatus(str, enum.Enum):
    invited = "invited"  # waiting for the member's answer
    accepted = "accepted"  # the member is in cluster_members
    declined = "declined"
    withdrawn = "withdrawn"  # the aggregator took the invitation back before an answer
    left = "left"  # accepted, then the member left or was taken out


class ClusterInvitation(Base):
    """An aggregator's invitation of a member into a cluster, and the member's answer.

    The member's own user answers, or a manager of the member's house on its behalf with a
    reason. At most one invitation per cluster and member is waiting at a time.
    """

    __tablename__ = "cluster_invitations"
    __table_args__ = (
        Index(
            "uq_cluster_invitations_waiting",
            "cluster_id",
            "member_id",
            unique=True,
            sqlite_where=text("status = 'invited'"),
            postgresql_where=text("status = 'invited'"),
        ),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    cluster_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("clusters.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("members.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[InvitationStatus] = mapped_column(
        Enum(
            InvitationStatus,
            native_enum=False,
            create_constraint=True,
            length=20,
            name="invitation_status",
        ),
        default=InvitationStatus.invited,
    )
    invited_by_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("users.id", ondelete="SET NULL")
    )
    invited_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("users.id", ondelete="SET NULL")
    )
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # True when a manager of the member's house answered for the member.
    on_behalf: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str] = mapped_column(String(500), default="")
    left_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    cluster: Mapped[Cluster] = relationship(back_populates="invitations")
    member: Mapped[Member] = relationship()


class ProductKind(str, enum.Enum):
    processed_food = "processed_food"
    fresh_food = "fresh_food"
    beverage = "beverage"
    garment = "garment"
    textile = "textile"
    leather_goods = "leather_goods"
    handicraft = "handicraft"
    furniture = "furniture"
    other = "other"


class Product(Base):
    __tablename__ = "products"
    __table_args__ = (UniqueConstraint("member_id", "name", name="uq_products_member_name"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    member_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("members.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(String(160))
    sector: Mapped[Sector] = mapped_column(_sector_enum("product_sector"))
    kind: Mapped[ProductKind] = mapped_column(
        Enum(
            ProductKind, native_enum=False, create_constraint=True, length=30, name="product_kind"
        ),
        default=ProductKind.other,
    )
    unit: Mapped[str] = mapped_column(String(20), default="pcs")
    # Production family for sequence-dependent set-up (e.g. `halal`, `non_halal`); optional.
    family: Mapped[str | None] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    member: Mapped[Member] = relationship(back_populates="products")
    routing: Mapped[list[RoutingStep]] = relationship(
        cascade="all, delete-orphan", order_by="RoutingStep.position"
    )


class RoutingStep(Base):
    """One operation of a product's routing, in order of `position` (1, 2, ...)."""

    __tablename__ = "routing_steps"
    __table_args__ = (
        UniqueConstraint("product_id", "position", name="uq_routing_steps_product_position"),
        CheckConstraint("position >= 1", name="position_positive"),
        CheckConstraint("setup_minutes >= 0", name="setup_non_negative"),
        CheckConstraint("minutes_per_unit >= 0", name="minutes_per_unit_non_negative"),
        CheckConstraint("min_lag_minutes >= 0", name="min_lag_non_negative"),
        CheckConstraint("max_lot IS NULL OR max_lot >= 1", name="max_lot_positive"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    product_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("products.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    capability_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("capabilities.id", ondelete="RESTRICT")
    )
    setup_minutes: Mapped[int] = mapped_column(Integer, default=0)
    # Run time per unit in minutes; fractional rates are expressed per batch elsewhere.
    minutes_per_unit: Mapped[int] = mapped_column(Integer)
    # Least wait after the previous step ends (cooling, drying).
    min_lag_minutes: Mapped[int] = mapped_column(Integer, default=0)
    # At most this many units in one run of a machine; a larger request is planned in lots
    # (None: any quantity in one run).
    max_lot: Mapped[int | None] = mapped_column(Integer)

    capability: Mapped[Capability] = relationship()
