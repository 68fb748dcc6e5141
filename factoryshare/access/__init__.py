"""Who may see what: the actor and the scope rules, in one place.

Every service loads objects through `scoped()` / `get_scoped()`, so a query can never reach
outside the caller's scope. Outside the scope is indistinguishable from absent (NotFound);
a role that may not act at all gets Forbidden.

Scopes:
- admin: everything;
- manager: the houses it manages, their machines, downtimes and members, the members'
  products, and clusters that produce in those houses;
- member: its own business and products, the clusters it belongs to;
- aggregator: its organisation, its clusters, the members who accepted its invitation into
  one of them (rows of `cluster_members`) and those members' products, bookings, requests
  and permits. A member only invited is outside the scope: the aggregator reads its name and
  business through the invitation and nothing else;
- cluster invitations: a member its own, a manager those of its houses' members, an
  aggregator those of its clusters;
- lender (a bank's or cooperative's credit officer): its own institution, the loan
  applications put to it once they were submitted and the loans made from them (registered
  by services/loans/ and services/lenders.py); nothing of houses' members beyond that.
Houses, capabilities, machines and downtimes are readable by every signed-in user: members
must see them to book.

The two rules most registered scopes are made of, "of a machine of the manager's houses" and
"owned by the member", are `of_house_machines` and `owned_by_member` (access/owners.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Select, false, select, true
from sqlalchemy.orm import Session

from factoryshare import i18n
from factoryshare.access.owners import of_house_machines as of_house_machines
from factoryshare.access.owners import owned_by_member as owned_by_member
from factoryshare.db import MAX_ID
from factoryshare.errors import Forbidden, NotFound
from factoryshare.i18n import N_
from factoryshare.models import (
    Aggregator,
    AuditEvent,
    Capability,
    Cluster,
    Downtime,
    Machine,
    Member,
    Product,
    ProductionHouse,
    Role,
    User,
    cluster_members,
)
from factoryshare.models.members import ClusterInvitation

T = TypeVar("T")


@dataclass(frozen=True)
class Actor:
    """The signed-in user as the services see it: identity, role and scope ids."""

    user_id: int | None
    role: Role
    house_ids: frozenset[int] = field(default_factory=frozenset)
    member_id: int | None = None
    aggregator_id: int | None = None
    language: str = "id"
    lender_id: int | None = None

    @classmethod
    def of(cls, user: User) -> Actor:
        return cls(
            user_id=user.id,
            role=user.role,
            # Only a manager's houses are its scope: nobody else's are read.
            house_ids=frozenset(h.id for h in user.houses)
            if user.role is Role.manager
            else frozenset(),
            member_id=user.member_id,
            aggregator_id=user.aggregator_id,
            language=user.language,
            lender_id=user.lender_id,
        )

    @classmethod
    def system(cls) -> Actor:
        """The scheduler and CLI acting on behalf of the service itself."""
        return cls(user_id=None, role=Role.admin)

    @property
    def is_admin(self) -> bool:
        return self.role is Role.admin

    @property
    def is_system(self) -> bool:
        """The service itself (scheduler, CLI, demo loader), not a signed-in person."""
        return self.user_id is None and self.role is Role.admin

    def require(self, *roles: Role) -> None:
        if self.role not in roles:
            raise Forbidden(N_("Your role may not do this."))

    def manages(self, house_id: int | None) -> bool:
        return self.is_admin or (self.role is Role.manager and house_id in self.house_ids)


def cluster_member_ids(aggregator_id: int) -> Select[Any]:
    """The members of the aggregator's clusters who accepted (invitees are not in the table)."""
    return (
        select(cluster_members.c.member_id)
        .join(Cluster, Cluster.id == cluster_members.c.cluster_id)
        .where(Cluster.aggregator_id == aggregator_id)
    )


def _member_filter(actor: Actor) -> Any:
    if actor.role is Role.manager:
        return Member.house_id.in_(actor.house_ids)
    if actor.role is Role.member:
        return Member.id == actor.member_id
    if actor.role is Role.aggregator:
        return Member.id.in_(cluster_member_ids(actor.aggregator_id or 0))
    return false()


def scope_filter(actor: Actor, model: type) -> Any:
    """The WHERE clause that limits `model` to what `actor` may see."""
    if actor.is_admin:
        return true()
    if model in (ProductionHouse, Capability, Machine, Downtime):
        return true()
    if model is Member:
        return _member_filter(actor)
    if model is Product:
        return Product.member_id.in_(select(Member.id).where(_member_filter(actor)))
    if model is Aggregator:
        if actor.role is Role.aggregator:
            return Aggregator.id == actor.aggregator_id
        return false()
    if model is Cluster:
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
    if model is ClusterInvitation:
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
    if model is AuditEvent:
        if actor.role is Role.manager:
            # Events about objects of the houses it manages (their house is kept on the event).
            return AuditEvent.house_id.in_(actor.house_ids)
        return false()
    if model is User:
        return false()
    extra = _EXTRA_SCOPES.get(model)
    if extra is not None:
        return extra(actor)
    raise LookupError(f"no scope rule for {model.__name__}")


# Later modules (bookings, schedule runs, loans, permits) register their scope rules here,
# so that the rule for every model still lives behind the one `scope_filter` entry point.
_EXTRA_SCOPES: dict[type, Any] = {}


def register_scope(model: type, rule: Any) -> None:
    _EXTRA_SCOPES[model] = rule


def scoped(actor: Actor, model: type[T]) -> Select[Any]:
    return select(model).where(scope_filter(actor, model))


def get_scoped(session: Session, actor: Actor, model: type[T], object_id: int) -> T:
    """Load one object in the caller's scope, or raise NotFound (never revealing which)."""
    name = i18n.label(model)
    if not isinstance(object_id, int) or not 0 < object_id <= MAX_ID:
        raise NotFound(N_("%(name)s %(object_id)s was not found.", name=name, object_id=object_id))
    obj = session.scalars(scoped(actor, model).where(model.id == object_id)).first()  # type: ignore[attr-defined]
    if obj is None:
        raise NotFound(N_("%(name)s %(object_id)s was not found.", name=name, object_id=object_id))
    return obj


def ids_in_scope(session: Session, actor: Actor, model: type, ids: Iterable[int]) -> set[int]:
    wanted = {i for i in ids if isinstance(i, int) and 0 < i <= MAX_ID}
    if not wanted:
        return set()
    stmt = select(model.id).where(scope_filter(actor, model), model.id.in_(wanted))  # type: ignore[attr-defined]
    return set(session.scalars(stmt))
