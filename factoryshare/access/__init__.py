"""Who may see what: the actor and the scope rules, in one place.

Every service loads objects through `scoped()` / `get_scoped()`, so a query can never reach
outside the caller's scope. Outside the scope is indistinguishable from absent (NotFound);
a role that may not act at all gets Forbidden.

An admin sees everything. Every other role sees, of each model, what the model's rule lets
it see; the rules are written by area, each with a docstring saying who sees what and why:

- access/houses.py: houses, capabilities, machines and downtimes, readable by every
  signed-in user (members must see them to book);
- access/members.py: members, products, aggregators, clusters and cluster invitations; an
  aggregator reaches only the members who accepted its invitation into one of its clusters;
- access/accounts.py: user accounts (admins only) and the audit log;
- access/bookings.py: bookings, weekly series and waitlist entries;
- access/production.py: production requests and schedule runs;
- access/permits.py: permits and permit overrides, seen with their member;
- access/financing.py: lenders, KUR schemes, loan applications with their shares and plan
  links, offtake agreements and purchases;
- access/notifications.py: a message is its recipient's.

The two rules most scopes are made of, "of a machine of the manager's houses" and "owned by
the member", are `of_house_machines` and `owned_by_member` (access/owners.py).

`SCOPE_RULES` below names every rule, model by model: a renamed or removed rule fails at
import, and a model with neither a rule nor a place in `NOT_SCOPED` fails a test
(tests/factoryshare/test_access.py). `scope_filter` raises for a model without a rule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Select, select, true
from sqlalchemy.orm import Session

from factoryshare import i18n
from factoryshare.access.accounts import audit_event_scope, user_scope
from factoryshare.access.bookings import booking_scope, series_scope, waitlist_scope
from factoryshare.access.financing import (
    kur_scheme_scope,
    lender_scope,
    loan_application_scope,
    loan_share_scope,
    offtake_agreement_scope,
    offtake_purchase_scope,
    plan_link_scope,
)
from factoryshare.access.houses import readable_by_everyone
from factoryshare.access.members import (
    aggregator_scope,
    cluster_scope,
    invitation_scope,
    member_scope,
    product_scope,
)
from factoryshare.access.members import cluster_member_ids as cluster_member_ids
from factoryshare.access.notifications import notification_scope
from factoryshare.access.owners import of_house_machines as of_house_machines
from factoryshare.access.owners import owned_by_member as owned_by_member
from factoryshare.access.permits import override_scope, permit_scope
from factoryshare.access.production import request_scope, run_scope
from factoryshare.db import MAX_ID
from factoryshare.errors import Forbidden, NotFound
from factoryshare.i18n import N_
from factoryshare.models import (
    Aggregator,
    ApiToken,
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
)
from factoryshare.models.booking_extras import BookingSeries, CalendarFeed, WaitlistEntry
from factoryshare.models.bookings import Booking, BookingQuota, IdempotencyKey
from factoryshare.models.financing import (
    Installment,
    KurScheme,
    Lender,
    LoanApplication,
    LoanDecision,
    LoanPlanLink,
    LoanPrepayment,
    LoanShare,
    LoanTranche,
    OfftakeAgreement,
    OfftakeDelivery,
    OfftakePurchase,
    Repayment,
)
from factoryshare.models.houses import HouseClosure
from factoryshare.models.jobs import JobRun
from factoryshare.models.members import ClusterInvitation, RoutingStep
from factoryshare.models.notifications import Notification
from factoryshare.models.permits import (
    Permit,
    PermitFlag,
    PermitOverride,
    PermitRequirement,
    PermitType,
    PermitVerificationRecord,
)
from factoryshare.models.scheduling import (
    ProductionRequest,
    RequestOperation,
    ScheduleAssignment,
    ScheduleRun,
)

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


Rule = Callable[[Actor], Any]

# Every model loaded through `scoped` / `get_scoped`, and the rule that limits it for every
# role but admin (an admin is answered before any rule: it sees everything).
SCOPE_RULES: dict[type, Rule] = {
    ProductionHouse: readable_by_everyone,
    Capability: readable_by_everyone,
    Machine: readable_by_everyone,
    Downtime: readable_by_everyone,
    Member: member_scope,
    Product: product_scope,
    Aggregator: aggregator_scope,
    Cluster: cluster_scope,
    ClusterInvitation: invitation_scope,
    User: user_scope,
    AuditEvent: audit_event_scope,
    Booking: booking_scope,
    BookingSeries: series_scope,
    WaitlistEntry: waitlist_scope,
    ProductionRequest: request_scope,
    ScheduleRun: run_scope,
    Permit: permit_scope,
    PermitOverride: override_scope,
    Lender: lender_scope,
    KurScheme: kur_scheme_scope,
    LoanApplication: loan_application_scope,
    LoanShare: loan_share_scope,
    LoanPlanLink: plan_link_scope,
    OfftakeAgreement: offtake_agreement_scope,
    OfftakePurchase: offtake_purchase_scope,
    Notification: notification_scope,
}

# Models with an id that have no rule of their own, and why: each is read only through an
# object that was loaded in scope first (or by the service itself, never for a role), so a
# query of its own would bypass nothing. `scope_filter` raises for them as for any model
# without a rule, so a service that starts loading one directly must give it a rule first.
NOT_SCOPED: dict[type, str] = {
    ApiToken: "credentials, looked up by the hash of the bearer token when signing in",
    IdempotencyKey: "the replay store of POST answers, keyed by the caller and its key",
    JobRun: "the scheduled jobs' record, read by admins only",
    HouseClosure: "a house's closed days, read through the house (every user reads houses)",
    BookingQuota: "a house's quota per capability, read through the house",
    CalendarFeed: "the signed-in member's own feed, or found by the hash of its secret token",
    RoutingStep: "a product's routing, read through the product",
    RequestOperation: "a request's operations, read through the request",
    ScheduleAssignment: "a run's proposed assignments, read through the run",
    PermitType: "reference data (the kinds of permit), read by every user",
    PermitRequirement: "reference data (which sector needs which permit), read by every user",
    PermitVerificationRecord: "a permit's verification history, read through the permit",
    PermitFlag: "written by the permit watch, read through the application it flags",
    LoanDecision: "an application's decisions, read through the application",
    LoanTranche: "a loan's tranches, read through the application",
    Installment: "a loan's installments, read through the application",
    Repayment: "a loan's repayments, read through the application",
    LoanPrepayment: "a loan's early repayments, read through the application",
    OfftakeDelivery: "an agreement's delivery dates, read through the agreement",
}


def scope_filter(actor: Actor, model: type) -> Any:
    """The WHERE clause that limits `model` to what `actor` may see."""
    if actor.is_admin:
        return true()
    rule = SCOPE_RULES.get(model)
    if rule is None:
        raise LookupError(f"no scope rule for {model.__name__}")
    return rule(actor)


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


def managed_house(session: Session, actor: Actor, house_id: int) -> ProductionHouse:
    """The house, for an admin or one of its managers: what a house's managers read and run
    (its agenda, its runs' review, its utilisation). A member is refused (403); a manager of
    another house finds it not found (404), as for any object outside its scope."""
    actor.require(Role.admin, Role.manager)
    house = get_scoped(session, actor, ProductionHouse, house_id)
    if not actor.manages(house.id):
        raise NotFound(
            N_(
                "%(name)s %(object_id)s was not found.",
                name=i18n.label(ProductionHouse),
                object_id=house_id,
            )
        )
    return house


def ids_in_scope(session: Session, actor: Actor, model: type, ids: Iterable[int]) -> set[int]:
    wanted = {i for i in ids if isinstance(i, int) and 0 < i <= MAX_ID}
    if not wanted:
        return set()
    stmt = select(model.id).where(scope_filter(actor, model), model.id.in_(wanted))  # type: ignore[attr-defined]
    return set(session.scalars(stmt))
