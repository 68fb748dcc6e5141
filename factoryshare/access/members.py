"""Scope rules of the members' side: members, products, aggregators, clusters, invitations.

A member's data is the member's (shared/DESIGN.md section 2): joining a cluster is the
member's decision, so an aggregator reaches a member only once the member accepted its
invitation into one of its clusters (a row of `cluster_members`). A member only invited is
outside the aggregator's scope: the aggregator reads its name and business through the
invitation and nothing else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, false, select

from factoryshare.models import Aggregator, Cluster, Member, Product, Role, cluster_members
from factoryshare.models.members import ClusterInvitation

if TYPE_CHECKING:
    from factoryshare.access import Actor


def cluster_member_ids(aggregator_id: int) -> Select[Any]:
    """The members of the aggregator's clusters who accepted (invitees are not in the table)."""
    return (
        select(cluster_members.c.member_id)
        .join(Cluster, Cluster.id == cluster_members.c.cluster_id)
        .where(Cluster.aggregator_id == aggregator_id)
    )


def member_scope(actor: Actor) -> Any:
    """A manager sees the members of the houses it manages; a member itself; an aggregator
    the members who accepted a place in one of its clusters; a lender none (it reads the
    applications put to it, not the businesses behind them)."""
    if actor.role is Role.manager:
        return Member.house_id.in_(actor.house_ids)
    if actor.role is Role.member:
        return Member.id == actor.member_id
    if actor.role is Role.aggregator:
        return Member.id.in_(cluster_member_ids(actor.aggregator_id or 0))
    return false()


def product_scope(actor: Actor) -> Any:
    """A product is seen by whoever sees the member who makes it."""
    return Product.member_id.in_(select(Member.id).where(member_scope(actor)))


def aggregator_scope(actor: Actor) -> Any:
    """An aggregator sees its own organisation; nobody else but an admin reads aggregators."""
    if actor.role is Role.aggregator:
        return Aggregator.id == actor.aggregator_id
    return false()


def cluster_scope(actor: Actor) -> Any:
    """An aggregator sees its clusters, a member the clusters it belongs to, a manager the
    clusters that produce in its houses."""
    if actor.role is Role.aggregator:
        return Cluster.aggregator_id == actor.aggregator_id
    if actor.role is Role.member:
        return Cluster.id.in_(
            select(cluster_members.c.cluster_id).where(
                cluster_members.c.member_id == actor.member_id
            )
        )
    if actor.role is Role.manager:
        return Cluster.house_id.in_(actor.house_ids)
    return false()


def invitation_scope(actor: Actor) -> Any:
    """A member sees the invitations made to it (to accept or decline), a manager those of
    its houses' members, an aggregator those into its clusters."""
    if actor.role is Role.member:
        return ClusterInvitation.member_id == actor.member_id
    if actor.role is Role.manager:
        return ClusterInvitation.member_id.in_(
            select(Member.id).where(Member.house_id.in_(actor.house_ids))
        )
    if actor.role is Role.aggregator:
        return ClusterInvitation.cluster_id.in_(
            select(Cluster.id).where(Cluster.aggregator_id == actor.aggregator_id)
        )
    return false()
