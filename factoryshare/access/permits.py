"""Scope rules of permits and of permit overrides.

A permit (izin edar) is a member's or one of its products': it is seen by whoever sees the
member (the member, its house's managers, and an aggregator once the member accepted a place
in one of its clusters: the aggregator buys the product and must know it may be sold). An
override of a product's permit requirement is seen by whoever sees the product's member.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from factoryshare.access.members import member_scope
from factoryshare.models import Member, Product
from factoryshare.models.permits import Permit, PermitOverride

if TYPE_CHECKING:
    from factoryshare.access import Actor


def _member_ids_in_scope(actor: Actor) -> Any:
    return select(Member.id).where(member_scope(actor))


def permit_scope(actor: Actor) -> Any:
    """The permits of the members the actor sees."""
    return Permit.member_id.in_(_member_ids_in_scope(actor))


def override_scope(actor: Actor) -> Any:
    """The overrides on products of the members the actor sees."""
    return PermitOverride.product_id.in_(
        select(Product.id).where(Product.member_id.in_(_member_ids_in_scope(actor)))
    )
